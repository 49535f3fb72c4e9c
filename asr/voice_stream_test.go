package asr

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
)

// TestStreamVoice speaks the same words (espeak-ng) calm and raised —
// 8 dB louder, higher and faster — through a real stream: each result
// carries its Voice, and the raised one measures louder, higher and
// faster.
func TestStreamVoice(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	s := newTestSphinx(t)
	dir := t.TempDir()
	voice := func(name string, pitch, speed int, gain float64) Voice {
		t.Helper()
		path := filepath.Join(dir, name+".wav")
		out, err := exec.Command("espeak-ng", "-v", "en-us", "-p", strconv.Itoa(pitch), "-s", strconv.Itoa(speed), "-w", path,
			"what is my balance").CombinedOutput()
		if err != nil {
			t.Fatalf("espeak-ng: %v: %s", err, out)
		}
		a, err := media.ReadWAVFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pcm := a.Mono8k()
		for i := range pcm {
			pcm[i] = int16(max(-32768, min(32767, float64(pcm[i])*gain)))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		st, err := s.NewStream(ctx, StreamConfig{Grammar: GrammarMain})
		if err != nil {
			t.Fatal(err)
		}
		wrote := make(chan struct{})
		defer func() { st.Close(); <-wrote }()
		frames := make([]int16, 25*media.FrameSamples)
		frames = append(append(frames, pcm...), make([]int16, 75*media.FrameSamples)...)
		go func() {
			defer close(wrote)
			for i := 0; i+media.FrameSamples <= len(frames); i += media.FrameSamples {
				if st.WriteSample(frames[i:i+media.FrameSamples]) != nil {
					return
				}
			}
		}()
		for e := range st.Events() {
			if e.Type == EventFinal || e.Type == EventNoMatch {
				t.Logf("%s: %s %q %+v (%.1f words/s)", name, e.Type, e.Text, e.Voice, e.Voice.WordsPerSecond())
				if e.Intent != IntentBalance || e.Voice.Words != 4 || e.Voice.PitchHz == 0 || e.Voice.Speech <= 0 {
					t.Errorf("%s: %s %q intent %q voice %+v", name, e.Type, e.Text, e.Intent, e.Voice)
				}
				return e.Voice
			}
		}
		t.Fatalf("%s: no result", name)
		return Voice{}
	}
	calm := voice("calm", 40, 160, 0.3)
	raised := voice("raised", 75, 230, 0.3*math.Pow(10, 8.0/20))
	if d := raised.LevelDBFS - calm.LevelDBFS; d < 6 || d > 10 {
		t.Errorf("level %+.1f dB, want about +8", d)
	}
	if raised.PitchHz < calm.PitchHz*1.15 {
		t.Errorf("pitch %.0f Hz raised vs %.0f Hz calm", raised.PitchHz, calm.PitchHz)
	}
	if raised.WordsPerSecond() <= calm.WordsPerSecond() {
		t.Errorf("rate %.2f raised vs %.2f calm", raised.WordsPerSecond(), calm.WordsPerSecond())
	}
}
