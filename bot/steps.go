package bot

import (
	"context"
	"fmt"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/store"
)

// stepID names a state of the dialog.
type stepID uint8

// The dialog's states, in the order a call usually walks them.
const (
	stepGreet stepID = iota
	stepIdentify
	stepAccount
	stepPIN
	stepMenu
	stepPayChoice
	stepPayAmount
	stepPayConfirm
	stepCardNumber
	stepCardExpiry
	stepCardCVV
	stepByeConfirm
	stepGoodbye
	stepEnd
)

// String names the step.
func (id stepID) String() string {
	switch id {
	case stepGreet:
		return "greet"
	case stepIdentify:
		return "identify"
	case stepAccount:
		return "account"
	case stepPIN:
		return "pin"
	case stepMenu:
		return "menu"
	case stepPayChoice:
		return "pay_choice"
	case stepPayAmount:
		return "pay_amount"
	case stepPayConfirm:
		return "pay_confirm"
	case stepCardNumber:
		return "card_number"
	case stepCardExpiry:
		return "card_expiry"
	case stepCardCVV:
		return "card_cvv"
	case stepByeConfirm:
		return "bye_confirm"
	case stepGoodbye:
		return "goodbye"
	case stepEnd:
		return "end"
	}
	return fmt.Sprintf("stepID(%d)", uint8(id))
}

// entryKind says how a step takes keys: one key a choice, or an entry of
// several keys ended by '#', a pause, or its length.
type entryKind uint8

const (
	entryNone   entryKind = iota // each key is a choice from step.keys
	entryDigits                  // digits (account number, PIN)
	entryAmount                  // digits with '*' as the decimal point
)

// Intents of the keypad only (no grammar has words for them).
const (
	IntentMainMenu = "main_menu"
	// intentEscalate is ask's answer after the third failed turn in a step.
	intentEscalate = "_escalate"
	// intentFrustrated is ask's answer when the caller's frustration score
	// reached the threshold; the value explains it.
	intentFrustrated = "_frustrated"
)

// menuIntents are the menu's requests. The payment choice, the payment's
// confirmation and the "end the call?" question take them too: a caller
// may change the subject there (asr.WithMenuRequests), and is served.
var menuIntents = []string{asr.IntentBalance, asr.IntentNextPayment, asr.IntentPaymentStatus, asr.IntentMakePayment}

// grammarPay stands for Config.PayGrammar in the table.
const grammarPay = "$pay"

// step is one row of the dialog table: what to say, what to listen for,
// which keys mean what, and what to do with the answer. An action step
// (act) takes no input.
type step struct {
	id   stepID
	name string
	act  func(b *Bot, ctx context.Context) (stepID, error)

	prompt    []string            // the question, when the call has speech
	keyPrompt []string            // the question for the keypad
	help      []string            // after a failed turn, when the call has speech
	dynamic   func(*Bot) []string // a question built from the call's data
	grammar   string              // the grammar to listen with ("" none)
	intents   []string            // spoken intents the step takes
	keys      map[byte]string     // key → intent (entryNone)
	entry     entryKind
	maxDigits int  // an entry ends by itself at this length (0: '#' or pause)
	secret    bool // keys and spoken digits are masked in the record and logs
	// typeAhead: the recording pauses here too, for keys typed ahead may
	// be a PIN (a caller who knows the line keys it over the welcome).
	typeAhead bool

	handle func(b *Bot, ctx context.Context, a answer) (stepID, error)
}

// run runs the step: its action, or its question and the answer's handler.
func (st *step) run(b *Bot, ctx context.Context) (stepID, error) {
	if st.act != nil {
		return st.act(b, ctx)
	}
	a, err := b.ask(ctx, st)
	if err != nil {
		return stepEnd, err
	}
	switch a.intent {
	case asr.IntentAgent:
		return b.handover(ctx, store.HandoverAsked, st.name)
	case intentEscalate:
		return b.handover(ctx, store.HandoverBotFailed, st.name+": "+a.value, "handoff_frustration")
	case intentFrustrated:
		return b.handover(ctx, store.HandoverFrustration, a.value, "handoff_frustration")
	case asr.IntentGoodbye:
		if st.id != stepByeConfirm && !b.served() {
			// A goodbye heard before the caller got anything from the call
			// is as likely a misheard request (an angry "I'm done, please"
			// heard for "balance please"): ask before hanging up on them.
			b.byeFrom = st.id
			return stepByeConfirm, nil
		}
		return stepGoodbye, nil
	}
	return st.handle(b, ctx, a)
}

// menuKeys is the keypad of the main menu. menu_bot_dtmf and
// menu_bot_dtmf_more announce each of them and '0' (agent, taken at every
// step), but for '*' (main menu), which is for coming back here from the
// other steps. (menu_main_dtmf, the line test menu's prompt, announces only
// 1, 2 and 0.)
var menuKeys = map[byte]string{
	'1': asr.IntentBalance,
	'2': asr.IntentNextPayment,
	'3': asr.IntentMakePayment,
	'4': asr.IntentPaymentStatus,
	'9': asr.IntentRepeat,
	'*': IntentMainMenu,
}

// stepTable is the dialog. Handlers live in identify.go, answers.go and
// payment.go.
func stepTable() map[stepID]*step {
	steps := []*step{
		{id: stepGreet, act: (*Bot).greet, typeAhead: true},
		{id: stepIdentify, act: (*Bot).identify, typeAhead: true},
		{
			id: stepAccount, prompt: []string{"id_account_ask"}, keyPrompt: []string{"id_account_ask"},
			grammar: asr.GrammarDigits, intents: []string{asr.IntentDigits}, entry: entryDigits,
			handle: (*Bot).onAccount,
		},
		{
			id: stepPIN, prompt: []string{"id_pin_ask"}, keyPrompt: []string{"id_pin_ask"},
			grammar: asr.GrammarDigits, intents: []string{asr.IntentDigits}, entry: entryDigits,
			maxDigits: 12, secret: true, handle: (*Bot).onPIN,
		},
		{
			id: stepMenu, prompt: []string{"menu_main_speech", "menu_bot_dtmf", "menu_bot_dtmf_more"},
			keyPrompt: []string{"menu_bot_dtmf", "menu_bot_dtmf_more"},
			help:      []string{"menu_speech_hint"}, dynamic: (*Bot).menuPrompt, grammar: asr.GrammarMain,
			intents: []string{asr.IntentBalance, asr.IntentNextPayment, asr.IntentMakePayment,
				asr.IntentPaymentStatus, asr.IntentRepeat},
			keys: menuKeys, handle: (*Bot).onMenu,
		},
		{
			id: stepPayChoice, prompt: []string{"pay_amount_ask", "pay_amount_options"},
			keyPrompt: []string{"pay_amount_ask", "pay_amount_options_dtmf"}, help: []string{"pay_amount_options"},
			grammar: grammarPay, intents: append([]string{IntentPayNext, IntentPayFull, IntentPayOther, asr.IntentAmount}, menuIntents...),
			keys:   map[byte]string{'1': IntentPayNext, '2': IntentPayFull, '3': IntentPayOther, '*': IntentMainMenu},
			handle: (*Bot).onPayChoice,
		},
		{
			id: stepPayAmount, prompt: []string{"pay_other_amount_ask"}, keyPrompt: []string{"pay_other_amount_ask"},
			grammar: asr.GrammarAmount, intents: []string{asr.IntentAmount}, entry: entryAmount,
			handle: (*Bot).onPayAmount,
		},
		{
			id: stepPayConfirm, dynamic: (*Bot).confirmPrompt, grammar: asr.GrammarConfirm,
			intents: append([]string{asr.IntentYes, asr.IntentNo, IntentOtherCard}, menuIntents...),
			keys:    map[byte]string{'1': asr.IntentYes, '2': asr.IntentNo, '3': IntentOtherCard, '*': IntentMainMenu},
			handle:  (*Bot).onConfirm,
		},
		// A different card, by keypad only (card.go): secret steps.
		cardStep(stepCardNumber, "card_number_ask", 20, (*Bot).onCardNumber),
		cardStep(stepCardExpiry, "card_expiry_ask", 4, (*Bot).onCardExpiry),
		cardStep(stepCardCVV, "card_cvv_ask", 5, (*Bot).onCardCVV),
		{
			id: stepByeConfirm, prompt: []string{"bye_confirm"}, keyPrompt: []string{"bye_confirm"},
			grammar: asr.GrammarConfirm, intents: append([]string{asr.IntentYes, asr.IntentNo}, menuIntents...),
			keys: map[byte]string{'1': asr.IntentYes, '2': asr.IntentNo}, handle: (*Bot).onByeConfirm,
		},
		{id: stepGoodbye, act: (*Bot).goodbye},
		{id: stepEnd},
	}
	m := make(map[stepID]*step, len(steps))
	for _, st := range steps {
		st.name = st.id.String()
		m[st.id] = st
	}
	return m
}

// cardStep is a keypad entry of card data: secret (masked in the record
// and logs, the recording paused), ended by '#', a pause or max keys.
func cardStep(id stepID, prompt string, max int, handle func(*Bot, context.Context, answer) (stepID, error)) *step {
	return &step{id: id, prompt: []string{prompt}, keyPrompt: []string{prompt}, entry: entryDigits,
		grammar: asr.GrammarDigits, intents: []string{asr.IntentDigits}, maxDigits: max, secret: true, handle: handle}
}

// accepts reports whether the step takes a spoken intent. Asking for a
// person and saying goodbye are taken everywhere.
func (st *step) accepts(intent string) bool {
	if intent == asr.IntentAgent || intent == asr.IntentGoodbye {
		return true
	}
	for _, in := range st.intents {
		if in == intent {
			return true
		}
	}
	return false
}
