package bot

import (
	"context"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
)

// maxUtterance is how much longer a step waits for a result when the
// caller barged in by speech: asr's default cap on an utterance.
const maxUtterance = asr.DefaultMaxUtterance

// answer is one usable caller turn: an intent (spoken or keyed) and its
// value (digits, an amount).
type answer struct {
	intent string
	value  string
	input  string // "speech" or "dtmf"
}

// miss is why a turn gave no answer.
type miss uint8

const (
	missNone      miss = iota
	missNoInput        // nothing within NoInput
	missNoMatch        // words outside the step's grammar
	missBadKey         // a key the step has no use for
	missSpeechOff      // recognition failed: keypad from now on
)

// String names the miss for logs and the handover detail.
func (m miss) String() string {
	switch m {
	case missNoInput:
		return "no_input"
	case missNoMatch:
		return "no_match"
	case missBadKey:
		return "invalid_key"
	case missSpeechOff:
		return "speech_off"
	}
	return "none"
}

// prompt is what the bot says right after the miss.
func (m miss) prompt() string {
	switch m {
	case missNoInput:
		return "no_input"
	case missBadKey:
		return "invalid_key"
	}
	return "no_match"
}

// ask puts the step's question and waits for a usable answer. A failed turn
// (no input, no match, a wrong key) is reprompted with help; the second in
// the step moves the caller to the keypad; the third gives intentEscalate.
// Key 0 or the words for a person give asr.IntentAgent at once.
func (b *Bot) ask(ctx context.Context, st *step) (answer, error) {
	prompt := b.promptFor(st)
	fails := 0
	for {
		b.listen(st)
		repeated := fails > 0 // the question again after a failed turn
		talking, err := b.sayTypeAhead(ctx, prompt)
		if err != nil {
			return answer{}, err
		}
		wait := b.cfg.NoInput
		if talking {
			wait += maxUtterance
		}
		b.heard = turnSignals{bargedIn: talking, botRepeat: repeated}
		a, m, err := b.hear(ctx, st, wait)
		if err != nil {
			return a, err
		}
		if m == missSpeechOff {
			b.speech = false
			prompt = append([]string{"asr_unavailable"}, b.promptFor(st)...)
			continue
		}
		// The third failed turn in a step is the three-strikes rule's to
		// hand over (as the bot failing), not the detector's.
		if b.frustrated(st, a, m) && (m == missNone || fails < 2) {
			return answer{intent: intentFrustrated, value: b.frust.detail()}, nil
		}
		if m == missNone {
			return a, nil
		}
		fails++
		b.log.Info("bot: failed turn", "step", st.name, "why", m.String(), "fails", fails)
		switch fails {
		case 1:
			prompt = append([]string{m.prompt()}, b.helpFor(st)...)
		case 2:
			b.keypad = true
			prompt = append([]string{m.prompt(), "keypad_fallback"}, b.promptFor(st)...)
		default:
			return answer{intent: intentEscalate, value: m.String()}, nil
		}
	}
}

// listen selects the step's grammar; steps without one leave the last.
func (b *Bot) listen(st *step) {
	g := st.grammar
	if g == grammarPay {
		g = b.cfg.PayGrammar
	}
	if g != "" {
		b.speech = b.call.Listen(g)
	}
}

// promptFor is the step's question for this call: spoken or keypad.
func (b *Bot) promptFor(st *step) []string {
	if st.dynamic != nil {
		if p := st.dynamic(b); p != nil {
			return p
		}
	}
	if b.speech && !b.keypad && !(st.grammar == grammarPay && b.cfg.PayGrammar != GrammarPayChoice) {
		return st.prompt
	}
	return st.keyPrompt
}

// helpFor is what follows a failed turn's apology.
func (b *Bot) helpFor(st *step) []string {
	if b.speech && !b.keypad && st.help != nil {
		return st.help
	}
	return b.promptFor(st)
}

// hear waits for the caller's turn at step st.
func (b *Bot) hear(ctx context.Context, st *step, wait time.Duration) (answer, miss, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case d := <-b.call.Digits():
			return b.keyed(ctx, st, d)
		case ev := <-b.call.Speech():
			if a, m, ok := b.spoken(st, ev); ok {
				return a, m, nil
			}
		case <-t.C:
			b.log.Info("bot: no input", "step", st.name)
			return answer{}, missNoInput, nil
		case <-ctx.Done():
			return answer{}, missNone, ctx.Err()
		}
	}
}

// keyed turns a key press (and, in an entry step, the keys after it) into
// the step's answer.
func (b *Bot) keyed(ctx context.Context, st *step, d media.DTMF) (answer, miss, error) {
	b.heard.keys = 1 + len(b.call.Digits())
	if st.entry == entryNone {
		b.noteKeys(string(d.Digit), false)
		if d.Digit == '0' {
			b.noteCaller(answer{intent: asr.IntentAgent, input: InputDTMF}, "0", 1)
			return answer{intent: asr.IntentAgent, input: InputDTMF}, missNone, nil
		}
		intent, ok := st.keys[d.Digit]
		if !ok {
			b.noteCaller(answer{input: InputDTMF}, string(d.Digit), 1)
			return answer{}, missBadKey, nil
		}
		a := answer{intent: intent, input: InputDTMF}
		b.noteCaller(a, string(d.Digit), 1)
		return a, missNone, nil
	}
	keys, err := b.collect(ctx, st, d.Digit)
	if err != nil {
		return answer{}, missNone, err
	}
	b.noteKeys(keys, st.secret)
	entered := trimPound(keys)
	a := answer{input: InputDTMF, value: entered}
	switch {
	case entered == "0":
		a.intent, a.value = asr.IntentAgent, ""
	case entered == "":
		b.noteCaller(answer{input: InputDTMF}, keys, 1)
		return answer{}, missBadKey, nil
	case st.entry == entryAmount:
		a.intent = asr.IntentAmount
	default:
		a.intent = asr.IntentDigits
	}
	text := keys
	if st.secret {
		text = maskEntry(keys)
	}
	b.noteCaller(answer{intent: a.intent, input: a.input}, text, 1)
	return a, missNone, nil
}

// collect gathers an entry: keys from first up to '#', a pause of
// InterDigit, or step.maxDigits keys. The '#' is kept.
func (b *Bot) collect(ctx context.Context, st *step, first byte) (string, error) {
	buf := []byte{first}
	t := time.NewTimer(b.cfg.InterDigit)
	defer t.Stop()
	for first != '#' && (st.maxDigits == 0 || len(buf) < st.maxDigits) {
		select {
		case d := <-b.call.Digits():
			buf = append(buf, d.Digit)
			if d.Digit == '#' {
				return string(buf), nil
			}
			t.Reset(b.cfg.InterDigit)
		case <-t.C:
			return string(buf), nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return string(buf), nil
}

// spoken turns a recognition event into the step's answer; ok is false
// for events that are not a turn.
func (b *Bot) spoken(st *step, ev asr.Event) (a answer, m miss, ok bool) {
	switch ev.Type {
	case asr.EventError:
		b.log.Warn("bot: speech failed; keypad only", "error", ev.Err)
		return answer{}, missSpeechOff, true
	case asr.EventNoInput:
		return answer{}, missNoInput, true
	case asr.EventNoMatch:
		b.heardSpeech(ev)
		b.noteSpeech(st, ev, "")
		return answer{}, missNoMatch, true
	case asr.EventFinal:
		b.heardSpeech(ev)
	default:
		return answer{}, missNone, false
	}
	valued := ev.Intent == asr.IntentDigits || ev.Intent == asr.IntentAmount
	if !st.accepts(ev.Intent) || (valued && ev.Value == "") {
		b.noteSpeech(st, ev, "")
		return answer{}, missNoMatch, true
	}
	b.noteSpeech(st, ev, ev.Intent)
	return answer{intent: ev.Intent, value: ev.Value, input: InputSpeech}, missNone, true
}

// trimPound drops the '#' that ends an entry.
func trimPound(keys string) string {
	if n := len(keys); n > 0 && keys[n-1] == '#' {
		return keys[:n-1]
	}
	return keys
}
