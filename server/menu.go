package server

import (
	"context"
	"time"
)

// Menu is the first call flow, a keypad menu: welcome, "press 1, 2 or 0",
// each key plays its own prompt, then goodbye and hang up. The speech bot
// replaces it.
type Menu struct {
	NoInput time.Duration // how long to wait for a key after the menu
	Tries   int           // menu attempts before giving up (3 if zero)
}

// menuChoices maps a key to the prompts it plays.
var menuChoices = map[byte][]string{
	'1': {"demo_balance"},
	'2': {"demo_next_payment"},
	'0': {"connecting_agent", "agents_closed"},
}

// Run plays the menu until a valid key or the tries run out.
func (m *Menu) Run(ctx context.Context, call Call) error {
	tries := m.Tries
	if tries == 0 {
		tries = 3
	}
	log := call.Log()
	if _, err := call.Play(ctx, "welcome"); err != nil {
		return err
	}
	for try := 0; try < tries; try++ {
		if _, err := call.Play(ctx, "menu_main_dtmf"); err != nil {
			return err
		}
		d, ok, err := WaitDigit(ctx, call, m.NoInput)
		if err != nil {
			return err
		}
		if !ok {
			log.Info("menu: no input", "try", try+1)
			if _, err := call.Play(ctx, "no_input"); err != nil {
				return err
			}
			continue
		}
		choice, valid := menuChoices[d.Digit]
		log.Info("menu: key", "digit", string(d.Digit), "source", d.Source.String(), "valid", valid)
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
