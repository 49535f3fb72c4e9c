package bot

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/supportline/ivr/asr"
)

// Defaults of FrustrationConfig. Every signal adds to a turn's score; the
// call's score is the sum over its frustrated turns, cut by Decay at each
// calm turn, and the bot hands the call to a person as soon as it reaches
// Threshold. With these weights one angry phrase said in a raised voice,
// or two angry phrases, or a raised voice on two turns, cross it; one
// misrecognition or one angry word in a calm call does not.
const (
	DefaultFrustrationThreshold = 0.7
	DefaultFrustrationDecay     = 0.5  // share of the score a calm turn keeps
	DefaultCalmBelow            = 0.1  // a turn scoring less is calm
	DefaultWeightCue            = 0.3  // an angry or negative phrase (half when spotted amid unrecognised speech)
	DefaultWeightSwearing       = 0.4  // swearing
	DefaultWeightMiss           = 0.1  // × the number of failed turns in a row
	DefaultWeightRepeatRequest  = 0.2  // the same request twice in a row
	DefaultWeightBotRepeat      = 0.05 // the bot asked the same question again
	DefaultWeightMenuReturn     = 0.2  // back to the main menu, from the second time
	DefaultWeightLouder         = 0.4  // full at LouderFullDB above the baseline
	DefaultWeightHigher         = 0.35 // full at HigherFullST above the baseline
	DefaultWeightFaster         = 0.15 // full at FasterFull × the baseline rate
	DefaultWeightBargeIn        = 0.1  // talking over a prompt, from the second time
	DefaultWeightKeyMash        = 0.3  // several keys at once at a choice, or invalid keys
	DefaultLouderFromDB         = 3.0  // louder than the baseline by less is calm
	DefaultLouderFullDB         = 9.0
	DefaultHigherFromST         = 1.5 // semitones
	DefaultHigherFullST         = 5.0
	DefaultFasterFrom           = 1.3 // × the baseline words per second (recognised words: noisy)
	DefaultFasterFull           = 1.8
	DefaultBaselineTurns        = 2 // the caller's first speech turns are the voice baseline
)

// FrustrationConfig weighs the signals of a caller's frustration. Zero
// fields take the defaults above; a negative Threshold turns the detector
// off (explicit requests for a person still work).
type FrustrationConfig struct {
	Threshold, Decay, CalmBelow float64

	// Words: cue phrases the grammars hear alongside the step's answer.
	Cue, Swearing float64
	// Conversation.
	Miss, RepeatRequest, BotRepeat, MenuReturn float64
	// Voice, against the caller's own first BaselineTurns speech turns:
	// a signal starts at its From and reaches its weight at its Full.
	Louder, Higher, Faster, BargeIn float64
	LouderFromDB, LouderFullDB      float64
	HigherFromST, HigherFullST      float64
	FasterFrom, FasterFull          float64
	BaselineTurns                   int
	// Keypad.
	KeyMash float64
}

// withDefaults fills in the zero fields.
func (c FrustrationConfig) withDefaults() FrustrationConfig {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Threshold, DefaultFrustrationThreshold)
	def(&c.Decay, DefaultFrustrationDecay)
	def(&c.CalmBelow, DefaultCalmBelow)
	def(&c.Cue, DefaultWeightCue)
	def(&c.Swearing, DefaultWeightSwearing)
	def(&c.Miss, DefaultWeightMiss)
	def(&c.RepeatRequest, DefaultWeightRepeatRequest)
	def(&c.BotRepeat, DefaultWeightBotRepeat)
	def(&c.MenuReturn, DefaultWeightMenuReturn)
	def(&c.Louder, DefaultWeightLouder)
	def(&c.Higher, DefaultWeightHigher)
	def(&c.Faster, DefaultWeightFaster)
	def(&c.BargeIn, DefaultWeightBargeIn)
	def(&c.KeyMash, DefaultWeightKeyMash)
	def(&c.LouderFromDB, DefaultLouderFromDB)
	def(&c.LouderFullDB, DefaultLouderFullDB)
	def(&c.HigherFromST, DefaultHigherFromST)
	def(&c.HigherFullST, DefaultHigherFullST)
	def(&c.FasterFrom, DefaultFasterFrom)
	def(&c.FasterFull, DefaultFasterFull)
	if c.BaselineTurns <= 0 {
		c.BaselineTurns = DefaultBaselineTurns
	}
	return c
}

// turnSignals is what one caller turn showed.
type turnSignals struct {
	miss      miss
	intent    string
	cues      []asr.Cue
	spotted   bool       // the cues were heard amid unrecognised speech (less sure)
	voice     *asr.Voice // a speech turn's voice; nil for keys or silence
	bargedIn  bool       // the caller talked over the question
	keys      int        // keys pressed in the turn (typed ahead included)
	botRepeat bool       // the question was the same as the last one
}

// frustration scores one call's turns. It is owned by the dialog goroutine.
type frustration struct {
	cfg FrustrationConfig

	score    float64
	reasons  []string // what raised the score since it was last calm
	misses   int      // failed turns in a row
	lastReq  string   // the caller's last request (an intent)
	menus    int      // main menu requests
	barges   int
	badKeys  int
	baseline []asr.Voice
	turns    int // caller turns scored
}

// voiceBase is the baseline voice: the mean of the first turns.
func (f *frustration) voiceBase() (db, hz, wps float64, ok bool) {
	if len(f.baseline) < f.cfg.BaselineTurns {
		return 0, 0, 0, false
	}
	var nHz, nWps float64
	for _, v := range f.baseline {
		db += v.LevelDBFS
		if v.PitchHz > 0 {
			hz += v.PitchHz
			nHz++
		}
		if r := v.WordsPerSecond(); r > 0 {
			wps += r
			nWps++
		}
	}
	db /= float64(len(f.baseline))
	if nHz > 0 {
		hz /= nHz
	}
	if nWps > 0 {
		wps /= nWps
	}
	return db, hz, wps, true
}

// ramp is 0 below from, 1 at full and above, linear between.
func ramp(x, from, full float64) float64 {
	if x <= from {
		return 0
	}
	return math.Min(1, (x-from)/(full-from))
}

// observe scores a turn and reports whether the call should now go to a
// person.
func (f *frustration) observe(t turnSignals) (escalate bool) {
	f.turns++
	var s float64
	var why []string
	add := func(w float64, reason string) {
		if w > 0 {
			s += w
			why = append(why, reason)
		}
	}
	f.words(t, add)
	f.conversation(t, add)
	f.voiceSignals(t, add)
	f.keypad(t, add)
	if s < f.cfg.CalmBelow {
		f.score *= f.cfg.Decay
		if f.score < f.cfg.CalmBelow {
			f.reasons = nil
		}
		return false
	}
	f.score = math.Min(1, f.score+s)
	f.reasons = append(f.reasons, why...)
	return f.cfg.Threshold > 0 && f.score >= f.cfg.Threshold-1e-9
}

func (f *frustration) words(t turnSignals, add func(float64, string)) {
	for _, c := range t.cues {
		w := f.cfg.Cue
		if c.Tag == asr.CueSwearing {
			w = f.cfg.Swearing
		}
		if t.spotted {
			w /= 2
		}
		add(w, fmt.Sprintf("'%s'", c.Text))
	}
}

func (f *frustration) conversation(t turnSignals, add func(float64, string)) {
	if t.miss != missNone {
		f.misses++
		add(f.cfg.Miss*float64(f.misses), fmt.Sprintf("%d %s", f.misses, strings.ReplaceAll(t.miss.String(), "_", "-")))
	} else {
		f.misses = 0
	}
	if t.botRepeat {
		add(f.cfg.BotRepeat, "bot repeated")
	}
	switch {
	case t.intent == IntentMainMenu:
		f.menus++
		if f.menus >= 2 {
			add(f.cfg.MenuReturn, fmt.Sprintf("main menu %d times", f.menus))
		}
	case t.intent != "" && t.intent != asr.IntentRepeat && t.intent == f.lastReq:
		add(f.cfg.RepeatRequest, "asked again for "+t.intent)
	}
	if t.intent != "" {
		f.lastReq = t.intent
	}
}

func (f *frustration) voiceSignals(t turnSignals, add func(float64, string)) {
	if t.bargedIn {
		f.barges++
		if f.barges >= 2 {
			add(f.cfg.BargeIn, fmt.Sprintf("%d barge-ins", f.barges))
		}
	}
	v := t.voice
	if v == nil || v.Speech < minVoiceSpeech {
		return
	}
	db, hz, wps, ok := f.voiceBase()
	if !ok {
		f.baseline = append(f.baseline, *v)
		return
	}
	if d := v.LevelDBFS - db; d > f.cfg.LouderFromDB {
		add(f.cfg.Louder*ramp(d, f.cfg.LouderFromDB, f.cfg.LouderFullDB), fmt.Sprintf("loudness %+.0f dB", d))
	}
	if hz > 0 && v.PitchHz > 0 {
		if st := 12 * math.Log2(v.PitchHz/hz); st > f.cfg.HigherFromST {
			add(f.cfg.Higher*ramp(st, f.cfg.HigherFromST, f.cfg.HigherFullST), fmt.Sprintf("pitch %+.1f st", st))
		}
	}
	if r := v.WordsPerSecond(); wps > 0 && r > 0 && r/wps > f.cfg.FasterFrom {
		add(f.cfg.Faster*ramp(r/wps, f.cfg.FasterFrom, f.cfg.FasterFull), fmt.Sprintf("rate ×%.2f", r/wps))
	}
}

// minVoiceSpeech is the least speech a turn's voice is measured on.
const minVoiceSpeech = 300 * time.Millisecond

func (f *frustration) keypad(t turnSignals, add func(float64, string)) {
	if t.miss == missBadKey {
		f.badKeys++
	}
	switch {
	case t.keys >= 3 && t.miss != missNone:
		add(f.cfg.KeyMash, fmt.Sprintf("%d keys at once", t.keys))
	case f.badKeys >= 2 && t.miss == missBadKey:
		add(f.cfg.KeyMash, fmt.Sprintf("%d invalid keys", f.badKeys))
	}
}

// detail explains the score for the call record and the log:
// "frustration 0.82: 2 no-match, loudness +9 dB, 'useless'".
func (f *frustration) detail() string {
	seen := map[string]bool{}
	var why []string
	for i := len(f.reasons) - 1; i >= 0; i-- { // newest first, once each kind
		r := f.reasons[i]
		kind := strings.Map(func(c rune) rune {
			if strings.ContainsRune("0123456789.+-×", c) {
				return -1
			}
			return c
		}, r)
		if !seen[kind] {
			seen[kind] = true
			why = append(why, r)
		}
	}
	for i, j := 0, len(why)-1; i < j; i, j = i+1, j-1 {
		why[i], why[j] = why[j], why[i]
	}
	return fmt.Sprintf("frustration %.2f: %s", f.score, strings.Join(why, ", "))
}

// spottedBelow is the confidence (share of the utterance in words, not
// garbage) under which a cue counts half: a cue spotted in speech the
// grammar does not cover is often a near sound in ordinary words.
const spottedBelow = 0.5

// heardSpeech keeps a recognition result's cues and voice for the turn.
func (b *Bot) heardSpeech(ev asr.Event) {
	b.heard.cues = ev.Cues
	b.heard.spotted = ev.Confidence < spottedBelow
	v := ev.Voice
	b.heard.voice = &v
}

// frustrated scores the turn just heard (not an explicit request for a
// person, nor goodbye: those are answered as asked) and reports whether
// the score reached the threshold.
func (b *Bot) frustrated(st *step, a answer, m miss) bool {
	if a.intent == asr.IntentAgent || a.intent == asr.IntentGoodbye {
		return false
	}
	t := b.heard
	t.miss, t.intent = m, a.intent
	if isCardStep(st.id) && t.intent != "" {
		t.intent += ":" + st.name // number, expiry, code: three entries, not one asked again
	}
	before := b.frust.score
	esc := b.frust.observe(t)
	if b.frust.score != before {
		b.log.Info("bot: frustration", "step", st.name, "score", math.Round(b.frust.score*100)/100,
			"escalate", esc, "why", b.frust.detail())
	}
	return esc
}

// Set sets the field of c named name ("threshold", "decay", "calm_below",
// "cue", "swearing", "miss", "repeat_request", "bot_repeat",
// "menu_return", "louder", "higher", "faster", "barge_in", "key_mash",
// "louder_from_db", "louder_full_db", "higher_from_st", "higher_full_st",
// "faster_from", "faster_full", "baseline_turns"), for flags and files.
func (c *FrustrationConfig) Set(name string, v float64) error {
	fields := map[string]*float64{
		"threshold": &c.Threshold, "decay": &c.Decay, "calm_below": &c.CalmBelow,
		"cue": &c.Cue, "swearing": &c.Swearing, "miss": &c.Miss, "repeat_request": &c.RepeatRequest,
		"bot_repeat": &c.BotRepeat, "menu_return": &c.MenuReturn, "louder": &c.Louder, "higher": &c.Higher,
		"faster": &c.Faster, "barge_in": &c.BargeIn, "key_mash": &c.KeyMash,
		"louder_from_db": &c.LouderFromDB, "louder_full_db": &c.LouderFullDB,
		"higher_from_st": &c.HigherFromST, "higher_full_st": &c.HigherFullST,
		"faster_from": &c.FasterFrom, "faster_full": &c.FasterFull,
	}
	if name == "baseline_turns" {
		c.BaselineTurns = int(v)
		return nil
	}
	f, ok := fields[name]
	if !ok {
		return fmt.Errorf("%w: no frustration setting %q", ErrConfig, name)
	}
	*f = v
	return nil
}
