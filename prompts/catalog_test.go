package prompts

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/supportline/ivr/media"
)

// levels measures x: the RMS of its active 10 ms blocks (those above -45
// dBFS, as a speech level meter skips pauses), its peak, both in dBFS, and
// how many samples sit at full scale.
func levels(x []int16) (active, peak float64, clipped int) {
	const block = media.SampleRate / 100
	var sum float64
	var n, pk int
	for i := 0; i+block <= len(x); i += block {
		var s float64
		for _, v := range x[i : i+block] {
			s += float64(v) * float64(v)
		}
		if dbfs(math.Sqrt(s/block)) > -45 {
			sum += s
			n += block
		}
	}
	for _, v := range x {
		a := int(v)
		if a < 0 {
			a = -a
		}
		pk = max(pk, a)
		if a >= 32767 {
			clipped++
		}
	}
	if n == 0 {
		return math.Inf(-1), dbfs(float64(pk)), clipped
	}
	return dbfs(math.Sqrt(sum / float64(n))), dbfs(float64(pk)), clipped
}

func dbfs(v float64) float64 { return 20 * math.Log10(v/32768) }

func embeddedForTest(t testing.TB) *Catalog {
	t.Helper()
	start := time.Now()
	c, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("embedded catalog ready in %v", time.Since(start))
	return c
}

func TestEmbeddedPrompts(t *testing.T) {
	c := embeddedForTest(t)
	names := c.Names()
	if len(names) < 150 {
		t.Fatalf("only %d prompts", len(names))
	}
	var total time.Duration
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, name := range names {
		clip, err := c.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		total += clip.Duration()
		active, peak, clipped := levels(clip.PCM)
		switch {
		case clip.Loop:
			if d := clip.Duration(); d < 30*time.Second || d > 60*time.Second {
				t.Errorf("%s: %v long, want 30-60 s", name, d)
			}
			if active > -20 || active < -34 {
				t.Errorf("%s: level %.1f dBFS, want quieter than speech, -34..-20", name, active)
			}
		default:
			if d := clip.Duration(); d < 150*time.Millisecond || d > 12*time.Second {
				t.Errorf("%s: %v long", name, d)
			}
			if active < -24 || active > -16 {
				t.Errorf("%s: active level %.1f dBFS, want -20 ± 4", name, active)
			}
			lo, hi = min(lo, active), max(hi, active)
			// Cut tight: no more than 20 ms below -60 dBFS at either end
			// (soft fricatives such as the "th" of "eighth" sit at -50).
			if lead, trail := quietEnds(clip.PCM); lead > 160 || trail > 160 {
				t.Errorf("%s: %d samples of silence before, %d after", name, lead, trail)
			}
		}
		if peak > -1 || clipped > 0 {
			t.Errorf("%s: peak %.1f dBFS, %d clipped samples", name, peak, clipped)
		}
	}
	t.Logf("%d prompts, %v of audio, speech active levels %.1f..%.1f dBFS", len(names), total.Round(time.Millisecond), lo, hi)
}

// quietEnds counts the samples below -60 dBFS at the start and the end of x.
func quietEnds(x []int16) (lead, trail int) {
	const floor = 33 // -60 dBFS
	quiet := func(v int16) bool { return v < floor && v > -floor }
	for lead < len(x) && quiet(x[lead]) {
		lead++
	}
	for trail < len(x)-lead && quiet(x[len(x)-1-trail]) {
		trail++
	}
	return lead, trail
}

// TestHoldMusicSeam checks that looping hold music does not click: the step
// from the last sample to the first is no larger than steps in the music.
func TestHoldMusicSeam(t *testing.T) {
	clip, err := embeddedForTest(t).Get("hold_music")
	if err != nil {
		t.Fatal(err)
	}
	x := clip.PCM
	step := func(a, b int16) int { return max(int(a)-int(b), int(b)-int(a)) }
	largest := 0
	for i := 1; i < len(x); i++ {
		largest = max(largest, step(x[i-1], x[i]))
	}
	seam := step(x[len(x)-1], x[0])
	t.Logf("seam step %d, largest step inside %d", seam, largest)
	if seam > largest/2 {
		t.Errorf("seam step %d against %d inside: the loop clicks", seam, largest)
	}
}

// TestSayNamesExist checks that every clip the Say functions can name is in
// the catalog.
func TestSayNamesExist(t *testing.T) {
	c := embeddedForTest(t)
	var lists [][]string
	for _, n := range []int64{0, 7, 13, 19, 20, 45, 99, 100, 101, 999, 1000, 12345, 1_000_000, 2_000_000_000, -5, 1_000_000_000_000} {
		lists = append(lists, SayNumber(n))
	}
	for n := range int64(100) {
		lists = append(lists, SayNumber(n))
	}
	for _, m := range []int64{0, 1, 2, 100, 101, 32109, -250} {
		s, err := SayMoney(m, "USD")
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, s)
	}
	for d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2024; d = d.AddDate(0, 0, 1) {
		lists = append(lists, SayDate(d), SayWeekday(d.Weekday()))
	}
	for _, y := range []int{1905, 1999, 2000, 2005, 2026, 2100} {
		lists = append(lists, SayYear(y))
	}
	lists = append(lists, SayDigits("0123456789*#"), SayMinutes(1), SayMinutes(12))
	for _, l := range lists {
		if _, err := c.Clips(l...); err != nil {
			t.Errorf("%v: %v", l, err)
		}
	}
}

func TestText(t *testing.T) {
	c := embeddedForTest(t)
	money, err := SayMoney(32109, "USD")
	if err != nil {
		t.Fatal(err)
	}
	got := c.Text(append([]string{"bal_your_balance_is"}, money...))
	want := "Your balance is three hundred twenty one dollars and nine cents"
	if got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if got := c.Text([]string{"sorry", "nope"}); got != "Sorry. <nope>" {
		t.Errorf("Text with unknown name = %q", got)
	}
	if _, err := c.Get("nope"); !errors.Is(err, ErrUnknownPrompt) {
		t.Errorf("Get(nope) = %v, want ErrUnknownPrompt", err)
	}
}

// goodMP3 returns the bytes of a real prompt file.
func goodMP3(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(embedded, "audio/"+name+".mp3")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadErrors(t *testing.T) {
	good := goodMP3(t, "okay")
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    error
		mention []string
	}{
		{
			name: "missing file",
			files: fstest.MapFS{
				"p/catalog.tsv": {Data: []byte("okay\tOkay.\nthanks\tThank you.\n")},
				"p/okay.mp3":    {Data: good},
			},
			want:    ErrMissingPrompt,
			mention: []string{"p/thanks.mp3"},
		},
		{
			name: "corrupt and empty files",
			files: fstest.MapFS{
				"p/catalog.tsv": {Data: []byte("okay\tOkay.\nbad\tBad.\nempty\tEmpty.\ncut\tCut.\n")},
				"p/okay.mp3":    {Data: good},
				"p/bad.mp3":     {Data: []byte(strings.Repeat("not an mp3 at all ", 50))},
				"p/empty.mp3":   {Data: nil},
				"p/cut.mp3":     {Data: good[:300]},
			},
			want:    ErrBadPrompt,
			mention: []string{"p/bad.mp3", "p/empty.mp3", "p/cut.mp3"},
		},
		{
			name:    "no catalog",
			files:   fstest.MapFS{"p/okay.mp3": {Data: good}},
			want:    ErrBadCatalog,
			mention: []string{"catalog.tsv"},
		},
		{
			name:    "malformed line",
			files:   fstest.MapFS{"p/catalog.tsv": {Data: []byte("# c\nOkay Okay.\n")}},
			want:    ErrBadCatalog,
			mention: []string{"line 2"},
		},
		{
			name:    "duplicate",
			files:   fstest.MapFS{"p/catalog.tsv": {Data: []byte("okay\tOkay.\nokay\tOkay.\n")}},
			want:    ErrBadCatalog,
			mention: []string{"okay listed twice"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.files, "p")
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load: %v, want %v", err, tt.want)
			}
			for _, m := range tt.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not name %s", err, m)
				}
			}
			t.Log(err)
		})
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	cat := "# override\nokay\tOkay.\nhold_music\t[hold music]\tloop\n"
	for name, data := range map[string][]byte{
		CatalogFile:      []byte(cat),
		"okay.mp3":       goodMP3(t, "okay"),
		"hold_music.mp3": goodMP3(t, "hold_music"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Names(); len(got) != 2 || got[0] != "okay" || got[1] != "hold_music" {
		t.Errorf("Names = %v", got)
	}
	music, _ := c.Get("hold_music")
	okay, _ := c.Get("okay")
	if !music.Loop || okay.Loop || okay.Text != "Okay." {
		t.Errorf("clips: %+v / loop %v", okay.Text, music.Loop)
	}
}

// TestGapless checks that the LAME tag is read: the decoded audio starts
// with speech, not with the encoder's delay.
func TestGapless(t *testing.T) {
	data := goodMP3(t, "welcome")
	g, ok := parseGapless(data)
	if !ok || g.frameSamples != 576 || g.delay == 0 || g.frames == 0 {
		t.Fatalf("parseGapless = %+v, %v", g, ok)
	}
	pcm, err := decodeMP3(data, false)
	if err != nil {
		t.Fatal(err)
	}
	if lead, _ := quietEnds(pcm); lead > 80 {
		t.Errorf("%d quiet samples before speech", lead)
	}
}

func BenchmarkLoadEmbedded(b *testing.B) {
	for b.Loop() {
		if _, err := Load(embedded, "audio"); err != nil {
			b.Fatal(err)
		}
	}
}
