package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/asr"
)

// calmVoice is a caller's ordinary voice; angry is louder, higher, faster.
var (
	calmVoice = asr.Voice{LevelDBFS: -24, PitchHz: 120, Speech: 1500 * time.Millisecond, Words: 4}
	angry     = asr.Voice{LevelDBFS: -15, PitchHz: 160, Speech: 1000 * time.Millisecond, Words: 5}
)

func v(x asr.Voice) *asr.Voice { return &x }

func TestFrustrationScore(t *testing.T) {
	calm := turnSignals{intent: asr.IntentBalance, voice: v(calmVoice)}
	base := []turnSignals{calm, {intent: asr.IntentNextPayment, voice: v(calmVoice)}}
	cue := func(tag, text string) []asr.Cue { return []asr.Cue{{Tag: tag, Text: text}} }
	tests := []struct {
		name     string
		turns    []turnSignals
		escalate int    // the turn (1-based) that crosses the threshold; 0 none
		detail   string // in the detail of the last turn scored
	}{
		{"calm call", append(base, calm, calm), 0, ""},
		{"one misrecognition", append(base, turnSignals{miss: missNoMatch, voice: v(calmVoice)}, calm), 0, ""},
		{"one angry word, calm voice", append(base, turnSignals{intent: asr.IntentBalance, voice: v(calmVoice),
			cues: cue(asr.CueFrustrated, "useless")}), 0, "'useless'"},
		{"raised voice", append(base, turnSignals{intent: asr.IntentPaymentStatus, voice: v(angry)}), 3,
			"loudness +9 dB, pitch +5.0 st"},
		{"angry words twice", append(base,
			turnSignals{intent: asr.IntentBalance, voice: v(calmVoice), cues: cue(asr.CueFrustrated, "this is useless")},
			turnSignals{intent: asr.IntentNextPayment, voice: v(calmVoice), cues: cue(asr.CueSwearing, "damn it")}), 4,
			"'this is useless', 'damn it'"},
		{"repeated request with no-matches", append(base,
			turnSignals{miss: missNoMatch, voice: v(calmVoice)},
			turnSignals{miss: missNoMatch, voice: v(calmVoice), botRepeat: true},
			turnSignals{intent: asr.IntentNextPayment, voice: v(calmVoice), botRepeat: true, cues: cue(asr.CueFrustrated, "oh come on")}), 5,
			"2 no-match"},
		{"key mashing", append(base, turnSignals{miss: missBadKey, keys: 4}, turnSignals{miss: missBadKey, keys: 3}), 4, "keys at once"},
		{"calm turns decay", append(base,
			turnSignals{intent: asr.IntentBalance, voice: v(calmVoice), cues: cue(asr.CueFrustrated, "ridiculous")},
			turnSignals{intent: asr.IntentPaymentStatus, voice: v(calmVoice)}, calm,
			turnSignals{intent: asr.IntentPaymentStatus, voice: v(calmVoice)},
			turnSignals{intent: asr.IntentNextPayment, voice: v(calmVoice), cues: cue(asr.CueFrustrated, "ridiculous")}), 0, ""},
		{"main menu again and again", append(base, turnSignals{intent: IntentMainMenu}, turnSignals{intent: IntentMainMenu},
			turnSignals{intent: IntentMainMenu, voice: v(angry)}), 5, "main menu 3 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := frustration{cfg: FrustrationConfig{}.withDefaults()}
			got := 0
			for i, tu := range tt.turns {
				if f.observe(tu) && got == 0 {
					got = i + 1
					break
				}
			}
			if got != tt.escalate {
				t.Errorf("escalated at turn %d, want %d (%s)", got, tt.escalate, f.detail())
			}
			if d := f.detail(); !strings.HasPrefix(d, "frustration ") || !strings.Contains(d, tt.detail) {
				t.Errorf("detail %q, want it to hold %q", d, tt.detail)
			}
		})
	}
}

func TestFrustrationConfig(t *testing.T) {
	var c FrustrationConfig
	if err := c.Set("threshold", 0.9); err != nil || c.Set("baseline_turns", 3) != nil {
		t.Fatal(err)
	}
	if err := c.Set("nonsense", 1); err == nil {
		t.Error("unknown setting: no error")
	}
	d := c.withDefaults()
	if d.Threshold != 0.9 || d.BaselineTurns != 3 || d.Cue != DefaultWeightCue || d.Decay != DefaultFrustrationDecay {
		t.Errorf("%+v", d)
	}
	// A negative threshold turns the detector off.
	f := frustration{cfg: FrustrationConfig{Threshold: -1}.withDefaults()}
	for range 5 {
		if f.observe(turnSignals{miss: missNoMatch, cues: []asr.Cue{{Tag: asr.CueSwearing, Text: "damn"}}}) {
			t.Fatal("escalated with the detector off")
		}
	}
}
