package asr

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// identityMLLR returns a transform that changes nothing, with the given
// stream lengths, in mllr_solve's format.
func identityMLLR(dims ...int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "1\n%d\n", len(dims))
	for _, n := range dims {
		fmt.Fprintf(&b, "%d\n", n)
		for i := range n {
			for j := range n {
				fmt.Fprintf(&b, "%d ", btoi(i == j))
			}
			b.WriteString("\n")
		}
		b.WriteString(strings.Repeat("0 ", n) + "\n" + strings.Repeat("1 ", n) + "\n")
	}
	return b.String()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestMLLRDims(t *testing.T) {
	dims, err := mllrDims(phoneMLLR)
	if err != nil || !slices.Equal(dims, []int{13, 13, 13}) {
		t.Fatalf("embedded phone.mllr: %v, %v; want [13 13 13]", dims, err)
	}
	ok := identityMLLR(13, 13, 13)
	for name, text := range map[string]string{
		"empty":          "",
		"two classes":    "2" + ok[1:],
		"truncated":      ok[:len(ok)-10],
		"trailing value": ok + " 7",
		"not a number":   strings.Replace(ok, "0 ", "zero ", 1),
		"zero streams":   "1 0",
		"huge stream":    "1 1 100000",
	} {
		if _, err := mllrDims(text); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestModelStreams(t *testing.T) {
	for _, c := range []struct {
		params string
		want   []int
	}{
		{"-feat 1s_c_d_dd\n-svspec 0-12/13-25/26-38\n", []int{13, 13, 13}},
		{"-svspec 0-12,26-38/13-25\n", []int{26, 13}},
		{"-lowerf 130\n", []int{39}},
		{"-ceplen 12\n", []int{36}},
		{"-svspec 0-12/x\n", nil},
		{"-feat s2_4x\n", nil},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "feat.params"), []byte(c.params), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := modelStreams(dir)
		if c.want == nil {
			if err == nil {
				t.Errorf("%q: %v, want an error", c.params, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: %v, %v; want %v", c.params, got, err, c.want)
		}
	}
	if _, err := modelStreams(t.TempDir()); err == nil {
		t.Error("no feat.params: no error")
	}
}

// TestNewSphinxMLLR: a missing or mismatched transform fails at start-up
// with ErrModel; a valid file and "none" load.
func TestNewSphinxMLLR(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DefaultModelDir(), "en-us", "mdef")); err != nil {
		t.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, path := range map[string]string{
		"missing":    filepath.Join(dir, "nope.mllr"),
		"one stream": write("one.mllr", identityMLLR(39)),
		"garbled":    write("bad.mllr", "1 3 13 1 2 3"),
	} {
		_, err := NewSphinx(SphinxConfig{Decoders: 1, MLLR: path})
		if !errors.Is(err, ErrModel) {
			t.Errorf("%s: %v, want ErrModel", name, err)
		}
		if name == "one stream" && (err == nil || !strings.Contains(err.Error(), "[39]")) {
			t.Errorf("one stream: %v, want the stream lengths named", err)
		}
	}
	for _, m := range []string{write("id.mllr", identityMLLR(13, 13, 13)), MLLRNone, ""} {
		s, err := NewSphinx(SphinxConfig{Decoders: 1, MLLR: m})
		if err != nil {
			t.Errorf("%q: %v", m, err)
			continue
		}
		if s.cfg.MaxAcousticGap != DefaultMaxAcousticGap {
			t.Errorf("rejection threshold %v, want the default %v", s.cfg.MaxAcousticGap, DefaultMaxAcousticGap)
		}
		s.Close()
	}
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "ivr-*.mllr"))
	for _, p := range left {
		if st, err := os.Stat(p); err == nil && st.Size() == int64(len(phoneMLLR)) {
			t.Errorf("embedded transform left behind: %s", p)
		}
	}
}
