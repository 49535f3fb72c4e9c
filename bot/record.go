package bot

import (
	"context"
	"strings"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/store"
)

// Who said a transcript turn.
const (
	WhoBot    = "bot"
	WhoCaller = "caller"
)

// How the caller gave a turn.
const (
	InputSpeech = "speech"
	InputDTMF   = "dtmf"
)

// since is the time since the call's start, for the record.
func (b *Bot) since() time.Duration { return b.cfg.Now().Sub(b.rec.Start) }

// mask hides an entry: one '*' per character, so the length shows and the
// digits do not.
func mask(s string) string { return strings.Repeat("*", len(s)) }

// say plays prompts, writing their words to the transcript first (a
// string join: nothing slow between a result and the first audio).
func (b *Bot) say(ctx context.Context, names ...string) error {
	_, err := b.play(ctx, names)
	return err
}

// play is say reporting a barge-in by speech (the prompt stopped with no
// key waiting): the caller is talking and the result is on its way.
func (b *Bot) play(ctx context.Context, names []string) (talking bool, err error) {
	b.noteBot(names)
	barged, err := b.call.Play(ctx, names...)
	return barged && len(b.call.Digits()) == 0, err
}

// sayBefore says clips on the way to step next, listening already with
// next's grammar: words spoken over the clips are the answer to next.
func (b *Bot) sayBefore(ctx context.Context, next stepID, clips ...string) (stepID, error) {
	b.listen(b.steps[next])
	b.setSensitive(b.steps[next].sensitive()) // keys typed over the clips belong to next
	if err := b.say(ctx, clips...); err != nil {
		return stepEnd, err
	}
	return next, nil
}

// sayNotice says something the caller must hear (the account is locked,
// the payment failed, the transfer): keys typed ahead are dropped first,
// so they don't skip it, and kept in the record masked (they may be a PIN).
func (b *Bot) sayNotice(ctx context.Context, clips ...string) error {
	var dropped []byte
	for len(b.call.Digits()) > 0 {
		dropped = append(dropped, (<-b.call.Digits()).Digit)
	}
	if len(dropped) > 0 {
		b.noteKeys(mask(string(dropped)), false)
	}
	return b.say(ctx, clips...)
}

// sayTypeAhead says a question unless the caller already answered it: a
// recognition result is waiting (a key waiting makes Play return at once).
func (b *Bot) sayTypeAhead(ctx context.Context, names []string) (talking bool, err error) {
	if len(b.call.Speech()) > 0 {
		return false, nil
	}
	if tt, ok := b.call.(TurnTaker); ok {
		tt.Asking()
	}
	return b.play(ctx, names)
}

// noteBot adds what the bot says to the transcript.
func (b *Bot) noteBot(names []string) {
	text := b.cfg.Prompts.Text(names)
	b.mu.Lock()
	b.rec.Transcript = append(b.rec.Transcript, store.Turn{At: b.since(), Who: WhoBot, Text: text})
	b.mu.Unlock()
}

// noteCaller adds a caller turn; text is already masked where it must be.
func (b *Bot) noteCaller(a answer, text string, confidence float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rec.Transcript = append(b.rec.Transcript, store.Turn{At: b.since(), Who: WhoCaller, Text: text,
		Confidence: confidence, Intent: a.intent, Input: a.input})
	if a.intent != "" {
		b.rec.Intents = append(b.rec.Intents, a.intent)
	}
}

// noteSpeech adds a recognition result as a caller turn; intent is "" for
// a result the step could not use. At a secret step the words are masked.
func (b *Bot) noteSpeech(st *step, ev asr.Event, intent string) {
	text := ev.Text
	if st.secret {
		text = maskWords(ev.Text)
	}
	b.log.Info("bot: heard", "step", st.name, "result", ev.Type.String(), "intent", intent,
		"text", text, "confidence", ev.Confidence, "acoustic_gap", ev.AcousticGap, "phone_frames", ev.PhoneFrames)
	b.noteCaller(answer{intent: intent, input: InputSpeech}, text, ev.Confidence)
}

// maskWords hides spoken words one '*' per word ("two four six eight" →
// "****").
func maskWords(text string) string { return strings.Repeat("*", len(strings.Fields(text))) }

// maskEntry masks an entry's keys but not the '#' that ended it.
func maskEntry(keys string) string {
	entered := trimPound(keys)
	return mask(entered) + keys[len(entered):]
}

// noteKeys adds key presses to the record's DTMF, masked at a secret step.
func (b *Bot) noteKeys(keys string, secret bool) {
	if secret {
		keys = maskEntry(keys)
	}
	b.log.Info("bot: keys", "keys", keys)
	b.mu.Lock()
	b.rec.DTMF = append(b.rec.DTMF, keys)
	b.mu.Unlock()
}
