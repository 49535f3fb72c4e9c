package softphone

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
)

// writeWAV writes pcm as a WAV file of the given rate and channel count
// (the samples are duplicated into each channel).
func writeWAV(t testing.TB, path string, pcm []int16, rate, channels int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := media.NewWAVWriter(f, rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	inter := make([]int16, 0, len(pcm)*channels)
	for _, v := range pcm {
		for range channels {
			inter = append(inter, v)
		}
	}
	if err := w.Write(inter); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestParseScript(t *testing.T) {
	dir := t.TempDir()
	writeWAV(t, filepath.Join(dir, "hello.wav"), media.GenerateTone([]float64{440}, 100*time.Millisecond, 0.3), 16000, 2)
	if err := os.WriteFile(filepath.Join(dir, "junk.wav"), []byte("RIFF junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		text    string
		want    []Step // Kind, Line, Digits, Duration compared
		wantErr string // substring; "" = no error
	}{
		{name: "all steps", text: "# a comment\n\nplay hello.wav\n  dtmf 12*#ab\nwait 1.5\nwait-silence\nwait-silence 5\nwait 250ms\nhangup\n",
			want: []Step{
				{Kind: StepPlay, Line: 3},
				{Kind: StepDTMF, Line: 4, Digits: "12*#AB"},
				{Kind: StepWait, Line: 5, Duration: 1500 * time.Millisecond},
				{Kind: StepWaitSilence, Line: 6, Duration: DefaultSilenceTimeout},
				{Kind: StepWaitSilence, Line: 7, Duration: 5 * time.Second},
				{Kind: StepWait, Line: 8, Duration: 250 * time.Millisecond},
				{Kind: StepHangup, Line: 9},
			}},
		{name: "empty", text: "# nothing\n\n", want: nil},
		{name: "unknown step", text: "wait 1\njump 3\n", wantErr: "s.txt:2: unknown step \"jump\""},
		{name: "bad digit", text: "dtmf 12x\n", wantErr: "s.txt:1: dtmf: 'x' is not a DTMF digit"},
		{name: "no digits", text: "dtmf\n", wantErr: "s.txt:1: dtmf needs digits"},
		{name: "missing wav", text: "\nplay nope.wav\n", wantErr: "s.txt:2: play nope.wav"},
		{name: "invalid wav", text: "play junk.wav\n", wantErr: "junk.wav: media: bad WAV file"},
		{name: "play without file", text: "play\n", wantErr: "s.txt:1: play needs a WAV file"},
		{name: "negative wait", text: "wait -1\n", wantErr: "s.txt:1: seconds must be positive"},
		{name: "bad wait", text: "wait soon\n", wantErr: "s.txt:1: bad number of seconds"},
		{name: "wait without seconds", text: "wait\n", wantErr: "s.txt:1: missing number of seconds"},
		{name: "NaN wait", text: "wait NaN\n", wantErr: "s.txt:1: bad number"},
		{name: "bad silence timeout", text: "wait-silence x\n", wantErr: "s.txt:1: bad number of seconds"},
		{name: "hangup with argument", text: "hangup now\n", wantErr: "s.txt:1: hangup takes no argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "s.txt")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			sc, err := ParseScript(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrScript) {
					t.Fatalf("err = %v, want ErrScript containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Steps) != len(tt.want) {
				t.Fatalf("%d steps, want %d", len(sc.Steps), len(tt.want))
			}
			for i, w := range tt.want {
				g := sc.Steps[i]
				if g.Kind != w.Kind || g.Line != w.Line || g.Digits != w.Digits || g.Duration != w.Duration {
					t.Errorf("step %d = %v line %d %q %v, want %v line %d %q %v", i,
						g.Kind, g.Line, g.Digits, g.Duration, w.Kind, w.Line, w.Digits, w.Duration)
				}
			}
		})
	}
}

func TestParseScriptResamplesPlay(t *testing.T) {
	dir := t.TempDir()
	writeWAV(t, filepath.Join(dir, "a.wav"), make([]int16, 48000), 48000, 2) // 1 s stereo 48 kHz
	if err := os.WriteFile(filepath.Join(dir, "s.txt"), []byte("play a.wav\nplay a.wav\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := ParseScript(filepath.Join(dir, "s.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sc.Steps[0].Audio); n < 7990 || n > 8010 {
		t.Errorf("1 s at 48 kHz gave %d samples at 8 kHz", n)
	}
	if &sc.Steps[0].Audio[0] != &sc.Steps[1].Audio[0] {
		t.Error("the same file was decoded twice")
	}
}

func TestParseScriptMissingFile(t *testing.T) {
	_, err := ParseScript(filepath.Join(t.TempDir(), "none.txt"))
	if !errors.Is(err, ErrScript) || !strings.Contains(err.Error(), "none.txt") {
		t.Fatalf("err = %v", err)
	}
}

func TestParsePortRange(t *testing.T) {
	if lo, hi, err := ParsePortRange("20000-20999"); err != nil || lo != 20000 || hi != 20999 {
		t.Errorf("got %d %d %v", lo, hi, err)
	}
	for _, bad := range []string{"", "20000", "a-b", "1-"} {
		if _, _, err := ParsePortRange(bad); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
