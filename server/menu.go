package server

import (
	"context"
	"time"

	"github.com/supportline/ivr/asr"
)

// Menu is the first call flow: welcome, then "press 1, 2 or 0" — also by
// voice ("what's my balance", "next payment", "agent") when the call has
// speech — each choice plays its own prompt, then goodbye and hang up. The
// speech bot replaces it.
type Menu struct {
	NoInput time.Duration // how long to wait for a key or words after the menu
	Tries   int           // menu attempts before giving up (3 if zero)
}

// menuChoices maps a key to the prompts it plays.
var menuChoices = map[byte][]string{
	'1': {"demo_balance"},
	'2': {"demo_next_payment"},
	'0': {"connecting_agent", "agents_closed"},
}

// spokenKeys maps a recognised intent of the main grammar to the menu key
// it stands for.
var spokenKeys = map[string]byte{
	asr.IntentBalance:       '1',
	asr.IntentNextPayment:   '2',
	asr.IntentMakePayment:   '2',
	asr.IntentPaymentStatus: '2',
	asr.IntentAgent:         '0',
}

// Run plays the menu until a valid choice or the tries run out.
func (m *Menu) Run(ctx context.Context, call Call) error {
	tries := m.Tries
	if tries == 0 {
		tries = 3
	}
	log := call.Log()
	speech := call.Listen(asr.GrammarMain)
	if _, err := call.Play(ctx, "welcome"); err != nil {
		return err
	}
	for try := 0; try < tries; try++ {
		menu := []string{"menu_main_dtmf"}
		if speech {
			menu = []string{"menu_main_speech", "menu_main_dtmf"}
		}
		if _, err := call.Play(ctx, menu...); err != nil {
			return err
		}
		in, ok, err := WaitInput(ctx, call, m.NoInput)
		if err != nil {
			return err
		}
		var key byte
		switch {
		case !ok:
			log.Info("menu: no input", "try", try+1)
			if _, err := call.Play(ctx, "no_input"); err != nil {
				return err
			}
			continue
		case in.Digit != nil:
			key = in.Digit.Digit
			log.Info("menu: key", "digit", string(key), "source", in.Digit.Source.String(), "valid", menuChoices[key] != nil)
		case in.Speech.Type == asr.EventError:
			log.Info("menu: speech unavailable, keypad only")
			speech = false
			if _, err := call.Play(ctx, "asr_unavailable"); err != nil {
				return err
			}
			try-- // the caller lost nothing: offer the keypad menu again
			continue
		case in.Speech.Type == asr.EventFinal && in.Speech.Intent == asr.IntentGoodbye:
			_, err := call.Play(ctx, "goodbye")
			return err
		case in.Speech.Type == asr.EventFinal && in.Speech.Intent == asr.IntentRepeat:
			try--
			continue
		case in.Speech.Type == asr.EventFinal:
			key = spokenKeys[in.Speech.Intent]
			log.Info("menu: spoken", "intent", in.Speech.Intent, "key", string(key))
		default: // no-match
			if _, err := call.Play(ctx, "no_match"); err != nil {
				return err
			}
			continue
		}
		choice, valid := menuChoices[key]
		if !valid {
			if _, err := call.Play(ctx, "invalid_key"); err != nil {
				return err
			}
			continue
		}
		if _, err := call.Play(ctx, choice...); err != nil {
			return err
		}
		break
	}
	_, err := call.Play(ctx, "goodbye")
	return err
}
