package prompts

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
)

var renderDir = flag.String("prompts.render", "", "write joined sample sentences as 8 kHz WAVs to this directory, to listen to")

// sentences are joined prompts worth listening to.
func sentences(t *testing.T) map[string][]string {
	money, err := SayMoney(32109, "USD")
	if err != nil {
		t.Fatal(err)
	}
	next, _ := SayMoney(4599, "USD")
	due := time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)
	return map[string][]string{
		"money":    money,
		"balance":  append([]string{"bal_your_balance_is"}, money...),
		"next":     concat([]string{"next_payment_of"}, next, []string{"next_is_due_on"}, SayDate(due)),
		"date":     SayDate(due),
		"card":     concat([]string{"pay_card_ending"}, SayDigits("4127")),
		"queue":    concat([]string{"queue_caller_number"}, SayNumber(3), []string{"queue_wait_is"}, SayMinutes(5)),
		"greeting": {"welcome", "menu_main_dtmf"},
	}
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestRenderSentences plays joined sentences through a Player and, with
// -prompts.render=DIR, writes them as WAVs.
func TestRenderSentences(t *testing.T) {
	c := embeddedForTest(t)
	for name, names := range sentences(t) {
		clips, err := c.Clips(names...)
		if err != nil {
			t.Fatal(err)
		}
		for _, gap := range []time.Duration{DefaultGap, 30 * time.Millisecond} {
			pcm := drain(t, NewPlayer(clips, WithGap(gap)), 2000)
			t.Logf("%-8s gap %2v: %5.2f s  %q", name, gap, float64(len(pcm))/media.SampleRate, c.Text(names))
			if *renderDir == "" || gap != DefaultGap {
				continue
			}
			writeWAV(t, filepath.Join(*renderDir, name+".wav"), pcm)
		}
	}
}

func writeWAV(t *testing.T, path string, pcm []int16) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := media.NewWAVWriter(f, media.SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
