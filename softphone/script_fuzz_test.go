package softphone

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportline/ivr/media"
)

// FuzzScript checks the `ivr call --script` parser: an error wraps
// ErrScript; a parsed script has only known steps with valid arguments.
// play steps may name tone.wav (a real file) or anything else in a temp
// directory; absolute paths and ".." are skipped (they could name a device
// that never ends, e.g. /dev/zero).
func FuzzScript(f *testing.F) {
	for _, p := range []string{"../examples/menu.txt", "../examples/balance-keypad.txt", "../examples/speak-balance.txt", "../examples/agent.txt"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("play tone.wav\nplay tone.wav\ndtmf 12*#abcd\nwait 0.5\nwait 1500ms\nwait-silence\nwait-silence 3\nhangup\n"))
	f.Add([]byte("# comment\n\n  DTMF 9  \nwait NaN\nwait -1\nwait 1e300\nhangup now\nplay\nplay missing.wav\nfly away\n"))
	dir := f.TempDir()
	wf, err := os.Create(filepath.Join(dir, "tone.wav"))
	if err != nil {
		f.Fatal(err)
	}
	w, err := media.NewWAVWriter(wf, 8000, 1)
	if err != nil {
		f.Fatal(err)
	}
	if err := w.Write(media.GenerateDTMF('5', 100e6, 0.3)); err != nil {
		f.Fatal(err)
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	wf.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, line := range strings.Split(string(data), "\n") {
			word, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
			arg = strings.TrimSpace(arg)
			if strings.EqualFold(word, "play") && (filepath.IsAbs(arg) || strings.Contains(arg, "..") || strings.ContainsRune(arg, '\r')) {
				return
			}
		}
		sc, err := parseScript(bytes.NewReader(data), "fuzz.txt", dir)
		if err != nil {
			if !errors.Is(err, ErrScript) {
				t.Fatalf("error does not wrap ErrScript: %v", err)
			}
			return
		}
		for _, st := range sc.Steps {
			switch st.Kind {
			case StepPlay:
				if len(st.Audio) == 0 {
					t.Fatalf("play step without audio: %+v", st.Text)
				}
			case StepDTMF:
				for i := range len(st.Digits) {
					if !media.ValidDigit(st.Digits[i]) {
						t.Fatalf("dtmf step with %q", st.Digits)
					}
				}
			case StepWait, StepWaitSilence:
				if st.Duration <= 0 {
					t.Fatalf("wait of %v", st.Duration)
				}
			case StepHangup:
			default:
				t.Fatalf("step kind %d from %q", st.Kind, st.Text)
			}
		}
	})
}
