package asr

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAcousticGap(t *testing.T) {
	tests := []struct {
		name string
		segs []WordScore
		want float64
	}{
		{"no words", []WordScore{{Word: "<sil>", Frames: 10, Ascr: -500}, {Word: "ph_ah", Frames: 5, Ascr: -100}}, 0},
		{"words only", []WordScore{{Word: "balance", Frames: 20, Ascr: -600}, {Word: "please", Frames: 10, Ascr: -300}}, 30},
		{"silence, fillers and garbage left out", []WordScore{
			{Word: "<s>", Frames: 3, Ascr: -9000}, {Word: "[NOISE]", Frames: 4, Ascr: -9000},
			{Word: "ph_k", Frames: 6, Ascr: -9000}, {Word: "agent", Frames: 25, Ascr: -1000},
		}, 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := acousticGap(tc.segs); got != tc.want {
				t.Errorf("acousticGap = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAcceptThresholds(t *testing.T) {
	tests := []struct {
		name          string
		minConf       float64
		maxGap        float64
		agentGap      float64
		bareGap       float64
		minPF         float64
		intent, words string
		conf, gap, pf float64
		want          bool
	}{
		{"off when zero", 0, 0, 0, 0, 0, IntentBalance, "balance", 0.05, 90, 2, true},
		{"off when negative", 0, -1, -1, -1, -1, IntentBalance, "balance", 0.05, 90, 2, true},
		{"coverage below floor", 0.4, 0, 0, 0, 0, IntentBalance, "balance", 0.3, 10, 9, false},
		{"coverage at floor", 0.4, 0, 0, 0, 0, IntentBalance, "balance", 0.4, 10, 9, true},
		{"gap above limit", 0, 44, 44, 0, 0, IntentBalance, "balance", 1, 44.5, 9, false},
		{"gap within limit", 0, 44, 44, 0, 0, IntentBalance, "balance", 1, 43, 9, true},
		{"phones squeezed", 0, 0, 0, 0, 6, IntentBalance, "balance", 1, 10, 5.9, false},
		{"phones at floor", 0, 0, 0, 0, 6, IntentBalance, "balance", 1, 10, 6, true},
		// A request for a person has its own gap limit, and only it.
		{"agent within its own limit", 0, 50, 58, 0, 0, IntentAgent, "talk to an agent", 1, 55, 9, true},
		{"agent above its own limit", 0, 50, 58, 0, 0, IntentAgent, "talk to an agent", 1, 58.5, 9, false},
		{"other intents keep the general limit", 0, 50, 58, 0, 0, IntentBalance, "balance", 1, 55, 9, false},
		{"agent limit off", 0, 50, -1, 0, 0, IntentAgent, "talk to an agent", 1, 90, 9, true},
		{"agent still squeezed", 0, 50, 58, 0, 4.5, IntentAgent, "talk to an agent", 1, 40, 4, false},
		// The words for a person alone, explaining most of the speech, are
		// held to the higher bare limit; anything more keeps the agent one.
		{"bare words within the bare limit", 0, 50, 50, 58, 0, IntentAgent, "operator", 0.71, 57.9, 9, true},
		{"bare words with an article", 0, 50, 50, 58, 0, IntentAgent, "a real person", 1, 51.6, 9, true},
		{"bare words above the bare limit", 0, 50, 50, 58, 0, IntentAgent, "operator", 1, 58.5, 9, false},
		{"bare words amid other speech", 0, 50, 50, 58, 0, IntentAgent, "agent", 0.35, 53, 9, false},
		{"a sentence keeps the agent limit", 0, 50, 50, 58, 0, IntentAgent, "i would like to talk to someone", 1, 52, 9, false},
		{"please keeps the agent limit", 0, 50, 50, 58, 0, IntentAgent, "a human being please", 1, 51, 9, false},
		{"bare limit off", 0, 50, 50, -1, 0, IntentAgent, "operator", 1, 52, 9, false},
		{"bare limit under the agent limit", 0, 50, 60, 55, 0, IntentAgent, "operator", 1, 59, 9, true},
		{"bare limit with the agent limit off", 0, 50, -1, 58, 0, IntentAgent, "operator", 1, 90, 9, true},
		{"bare limit is for requests only", 0, 50, 50, 58, 0, IntentBalance, "operator", 1, 52, 9, false},
		{"bare words still squeezed", 0, 50, 50, 58, 4.5, IntentAgent, "operator", 1, 40, 4, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Sphinx{cfg: SphinxConfig{MinConfidence: tc.minConf, MaxAcousticGap: tc.maxGap, MaxAgentGap: tc.agentGap,
				MaxBareAgentGap: tc.bareGap, MinPhoneFrames: tc.minPF}}
			if got := s.accept(nil, tc.intent, tc.words, tc.conf, tc.gap, tc.pf); got != tc.want {
				t.Errorf("accept(%s, %q, %v, %v, %v) = %v, want %v", tc.intent, tc.words, tc.conf, tc.gap, tc.pf, got, tc.want)
			}
		})
	}
}

// TestGrammarLimits checks that a grammar's own gap limits take the place of
// the recognizer's, and that the yes/no grammar has them with its
// background loop.
func TestGrammarLimits(t *testing.T) {
	s := &Sphinx{cfg: SphinxConfig{MaxAcousticGap: 50, MaxAgentGap: 50, MaxBareAgentGap: 58}}
	loop := &Grammar{MaxAcousticGap: -1, MaxAgentGap: 56}
	tests := []struct {
		name          string
		g             *Grammar
		intent, words string
		gap           float64
		want          bool
	}{
		{"recognizer's limit without a grammar", nil, IntentYes, "yes", 52.5, false},
		{"recognizer's limit when the grammar sets none", &Grammar{}, IntentYes, "yes", 52.5, false},
		{"grammar's limit off", loop, IntentYes, "yes", 80, true},
		{"grammar's agent limit", loop, IntentAgent, "talk to an agent", 55, true},
		{"above the grammar's agent limit", loop, IntentAgent, "talk to an agent", 56.5, false},
		{"bare limit above the grammar's agent limit", loop, IntentAgent, "operator", 57.5, true},
		{"grammar's own general limit", &Grammar{MaxAcousticGap: 40}, IntentYes, "yes", 45, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.accept(tc.g, tc.intent, tc.words, 1, tc.gap, 9); got != tc.want {
				t.Errorf("accept(%s, %q, gap %v) = %v, want %v", tc.intent, tc.words, tc.gap, got, tc.want)
			}
		})
	}
	c := ConfirmGrammar()
	if c.Background != DefaultBackgroundWords || c.MaxAcousticGap >= 0 || c.MaxAgentGap <= 0 {
		t.Errorf("confirm grammar: background %d, gap limit %v, agent limit %v; want %d words, no general limit, an agent limit",
			c.Background, c.MaxAcousticGap, c.MaxAgentGap, DefaultBackgroundWords)
	}
	if m := MainGrammar(); m.Background != 0 || m.MaxAcousticGap != 0 || m.MaxAgentGap != 0 {
		t.Errorf("main grammar: background %d, limits %v / %v; want none of its own (50 calls on two cores)", m.Background, m.MaxAcousticGap, m.MaxAgentGap)
	}
}

func TestBarePerson(t *testing.T) {
	person := mustExpansion(agentDefs["person"])
	for words, want := range map[string]bool{
		"agent": true, "an agent": true, "representative": true, "a representative": true,
		"operator": true, "an operator": true, "human": true, "a human": true, "real person": true,
		"a real person": true, "person": true, "a person": true, "someone": true, "somebody": true,
		"customer service": true, "a human being": false, "operator please": false, "agent thank you": false, "i want an operator": false,
		"talk to someone": false, "get me a human": false, "real": false, "": false, "a an agent": false,
	} {
		if got := barePerson(words, 1); got != want {
			t.Errorf("barePerson(%q, 1) = %v, want %v", words, got, want)
		}
		// Every bare phrase is one of the agent rules' <person>.
		if want && !person.MatchString(words+" ") {
			t.Errorf("%q is bare but not a <person>", words)
		}
	}
	if barePerson("operator", bareAgentShare-0.01) {
		t.Errorf("barePerson(operator) with under %v of the speech explained = true, want false", bareAgentShare)
	}
}

func TestPhoneFrames(t *testing.T) {
	phones := map[string]int{"get(2)": 3, "me": 2, "a": 1, "human": 5, "bye": 2}
	tests := []struct {
		name string
		segs []WordScore
		want float64
	}{
		{"no words", []WordScore{{Word: "<sil>", Frames: 10}, {Word: "ph_ah", Frames: 5}}, 0},
		// "get me a human" at a normal pace: 11 phones in 99 frames.
		{"pronunciation variants counted", []WordScore{{Word: "get(2)", Frames: 18}, {Word: "me", Frames: 11},
			{Word: "a", Frames: 5}, {Word: "human", Frames: 42}, {Word: nullWord, Frames: 1}, {Word: "<sil>", Frames: 20}}, 76.0 / 11},
		// A click heard as "bye" amid garbage phones: the empty transitions
		// and the garbage do not dilute the squeeze.
		{"garbage and empty transitions left out", []WordScore{{Word: "ph_k", Frames: 12}, {Word: nullWord, Frames: 1},
			{Word: "bye", Frames: 7}, {Word: nullWord, Frames: 1}}, 3.5},
		{"a word the table lacks counts one phone", []WordScore{{Word: "zzz", Frames: 9}}, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := phoneFrames(tc.segs, phones); got != tc.want {
				t.Errorf("phoneFrames = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRetryAfterSearchFailure decodes a clip whose first search finds no
// path through the digits grammar (festival's kal voice saying "one two
// three four"; PocketSphinx: "final result does not match the grammar"):
// without the retry it is a no-match with no words at all, with it the
// wide-beam decode hears the digits.
func TestRetryAfterSearchFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("loads decoders")
	}
	for _, tc := range []struct {
		name      string
		retry     int
		intent    string
		retried   bool
		wantWords bool
	}{
		{"no retry", -1, IntentNone, false, false},
		{"retry", 0, IntentDigits, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(DefaultModelDir(), "en-us", "mdef")); err != nil {
				t.Skipf("pocketsphinx-en-us not installed: %v", err)
			}
			rep, s := evalWith(t, SphinxConfig{Decoders: 1, RetryDecoders: tc.retry}, "../testdata/retry")
			r := rep.Results[0]
			t.Logf("%s: %q retried %v, gap %.1f, %.1f frames per phone", r.GotIntent, r.GotText, r.Retried, r.Gap, r.PhoneFrames)
			if r.GotIntent != tc.intent || r.Retried != tc.retried || (len(r.Words) > 0) != tc.wantWords {
				t.Errorf("got %s %q, retried %v, %d path entries; want %s, retried %v, words %v",
					r.GotIntent, r.GotText, r.Retried, len(r.Words), tc.intent, tc.retried, tc.wantWords)
			}
			if tc.retried && r.Value != "1234" {
				t.Errorf("digits %q, want 1234", r.Value)
			}
			if got := s.Stats().Retried; got != map[bool]int64{true: 1, false: 0}[tc.retried] {
				t.Errorf("Stats().Retried = %d", got)
			}
		})
	}
}

// TestBareRequestLimit decodes two clips of the scripted calls
// (testdata/bare) with the real decoder: "operator" said alone, whose words
// fit the audio at a gap between the agent limit (50) and the bare limit
// (58), and a calm caller's "sorry i was talking to my son", forced onto
// "i would like to talk to somebody" at a gap in the same range. The bare
// limit hears the first and not the second; raising the agent limit to 58
// for every request would hear both.
func TestBareRequestLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("loads decoders")
	}
	if _, err := os.Stat(filepath.Join(DefaultModelDir(), "en-us", "mdef")); err != nil {
		t.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
	for _, tc := range []struct {
		name              string
		agentGap, bareGap float64
		operator, son     string
	}{
		{"defaults", 0, 0, IntentAgent, IntentNone},
		{"no bare limit", 0, -1, IntentNone, IntentNone},
		{"agent limit 58 for every request", 58, -1, IntentAgent, IntentAgent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, _ := evalWith(t, SphinxConfig{Decoders: 1, MaxAgentGap: tc.agentGap, MaxBareAgentGap: tc.bareGap}, "../testdata/bare")
			for i, want := range []string{tc.operator, tc.son} {
				r := rep.Results[i]
				t.Logf("%s: %s %q, gap %.1f, %.2f of the speech", r.Path, r.GotIntent, r.GotText, r.Gap, r.Confidence)
				if r.Gap <= DefaultMaxAcousticGap || r.Gap > DefaultMaxBareAgentGap {
					t.Fatalf("%s: gap %.1f is no longer between the limits %v and %v: the clip no longer tests the bare limit",
						r.Path, r.Gap, DefaultMaxAcousticGap, DefaultMaxBareAgentGap)
				}
				if r.GotIntent != want {
					t.Errorf("%s: intent %s, want %s", r.Path, r.GotIntent, want)
				}
			}
		})
	}
}

// evalWith opens a recognizer with cfg (closed when the test ends) and
// runs the corpus in dir through it, one clip at a time.
func evalWith(t *testing.T, cfg SphinxConfig, dir string) (*Report, *Sphinx) {
	t.Helper()
	s, err := NewSphinx(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// A bound for a stuck decoder, not a timing: the real-speech slice
	// takes about a minute under -race on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := Eval(ctx, s, dir, EvalConfig{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	return rep, s
}

func TestWithoutArgs(t *testing.T) {
	args := []string{"-hmm", "m", "-beam", "1e-20", "-lw", "4.5", "-wbeam", "1e-10"}
	got := withoutArgs(args, RetryBeams)
	want := []string{"-hmm", "m", "-lw", "4.5"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("withoutArgs = %v, want %v", got, want)
	}
}
