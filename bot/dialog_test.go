package bot

import (
	"slices"
	"strings"
	"testing"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/store"
)

// TestDialog walks the dialog's paths with scripted turns and checks what
// the caller heard, the record and the store.
func TestDialog(t *testing.T) {
	tests := []struct {
		name     string
		caller   string
		speech   bool
		turns    []turn
		mod      func(*memStore)
		heard    []string // in order, as a subsequence of the prompts played
		notHeard []string
		outcome  string
		handover string // reason, "" for none
		payments int
		check    func(t *testing.T, b *Bot, st *memStore)
	}{{
		name: "balance by keypad", caller: "15550100",
		turns: []turn{keys("2468#"), keys("1"), keys("0")},
		heard: []string{"welcome", "id_caller_found", "id_pin_ask", "id_verified", "menu_bot_dtmf",
			"bal_your_balance_is", "num_3", "num_hundred", "num_20", "num_1", "word_dollars", "word_and", "num_9", "word_cents",
			"anything_else", "transferring"},
		outcome: OutcomeHandover, handover: store.HandoverAsked,
	}, {
		name: "next payment by keypad, then goodbye by voice", caller: "15550100", speech: true,
		turns: []turn{keys("2468#"), keys("2"), say(asr.IntentGoodbye, "", "goodbye")},
		heard: []string{"menu_main_speech", "next_payment_of", "num_50", "num_4", "word_dollars", "word_and", "num_10",
			"word_cents", "next_is_due_on", "month_december", "day_5", "goodbye"}, // the words skip "anything else"
		outcome: OutcomeCompleted,
	}, {
		// A goodbye before the caller got anything may be a misheard
		// request: the bot asks before hanging up.
		name: "goodbye before any answer is confirmed", caller: "15550100", speech: true,
		turns:   []turn{keys("2468#"), say(asr.IntentGoodbye, "", "i'm done please"), say(asr.IntentYes, "", "yes")},
		heard:   []string{"id_verified", "bye_confirm", "goodbye"},
		outcome: OutcomeCompleted,
	}, {
		name: "misheard goodbye, no: back to the menu", caller: "15550100", speech: true,
		turns: []turn{keys("2468#"), say(asr.IntentGoodbye, "", "i'm done please"), keys("2"), keys("1"),
			say(asr.IntentGoodbye, "", "goodbye")},
		heard:   []string{"id_verified", "bye_confirm", "menu_main_speech", "bal_your_balance_is", "goodbye"},
		outcome: OutcomeCompleted,
		check: func(t *testing.T, b *Bot, _ *memStore) {
			// Served by then: the second goodbye ends the call at once.
			n := 0
			for _, tu := range b.Record().Transcript {
				if tu.Who == WhoBot && strings.Contains(tu.Text, "end the call") {
					n++
				}
			}
			if n != 1 {
				t.Errorf("asked %d times whether to end the call, want 1", n)
			}
		},
	}, {
		name: "goodbye at the PIN, no: the PIN again", caller: "15550100", speech: true,
		turns:   []turn{say(asr.IntentGoodbye, "", "bye"), say(asr.IntentNo, "", "no"), keys("2468#"), keys("0")},
		heard:   []string{"id_caller_found", "bye_confirm", "id_pin_ask", "id_verified", "transferring"},
		outcome: OutcomeHandover, handover: store.HandoverAsked,
	}, {
		name: "balance by voice", caller: "15550100", speech: true,
		turns: []turn{say(asr.IntentDigits, "2468", "two four six eight"), say(asr.IntentBalance, "", "what is my balance"),
			say(asr.IntentAgent, "", "agent")},
		heard:   []string{"id_verified", "bal_your_balance_is", "num_3", "transferring"},
		outcome: OutcomeHandover, handover: store.HandoverAsked,
		check: func(t *testing.T, b *Bot, _ *memStore) {
			rec := b.Record()
			for _, tu := range rec.Transcript {
				if strings.Contains(tu.Text, "two") || strings.Contains(tu.Text, "2468") {
					t.Errorf("spoken PIN in the transcript: %+v", tu)
				}
			}
			if !hasTurn(rec, WhoCaller, "****", asr.IntentDigits) || !hasTurn(rec, WhoCaller, "what is my balance", asr.IntentBalance) {
				t.Errorf("transcript lacks the caller's turns: %+v", rec.Transcript)
			}
		},
	}, {
		name: "payment confirmed", caller: "15550100",
		turns: []turn{keys("2468#"), keys("3"), keys("1"), keys("1"), keys("0")},
		heard: []string{"pay_amount_ask", "pay_amount_options_dtmf", "pay_confirm_you_want", "num_50", "num_4",
			"pay_card_ending", "num_4", "num_2", "num_4", "num_2", "pay_confirm_yes_no", "pay_success",
			"pay_confirmation_number", "num_4", "num_0", "num_7", "num_1", "num_8", "num_2", "num_5", "num_3"},
		outcome: OutcomeHandover, handover: store.HandoverAsked, payments: 1,
		check: func(t *testing.T, b *Bot, st *memStore) {
			p := st.payments[0]
			if p.Amount.Minor != 5410 || p.CardLast4 != "4242" ||
				p.IdempotencyKey != IdempotencyKey("call-1@test", 1, p.Amount, "4242") {
				t.Errorf("payment %+v", p)
			}
			if got := b.Record().Payments; len(got) != 1 || got[0] != p.ID {
				t.Errorf("record payments %v", got)
			}
			// All 8 digits of the confirmation are spoken (and so in the transcript).
			var bot strings.Builder
			for _, tu := range b.Record().Transcript {
				if tu.Who == WhoBot {
					bot.WriteString(tu.Text + "\n")
				}
			}
			if want := "Your confirmation number is four zero seven one eight two five three"; !strings.Contains(bot.String(), want) {
				t.Errorf("the bot did not say %q; it said:\n%s", want, bot.String())
			}
		},
	}, {
		name: "payment declined", caller: "15550100",
		turns:   []turn{keys("2468#"), keys("3"), keys("2"), keys("2"), keys("0")},
		heard:   []string{"pay_confirm_you_want", "num_3", "num_hundred", "pay_confirm_yes_no", "pay_cancelled"},
		outcome: OutcomeHandover, handover: store.HandoverAsked, notHeard: []string{"pay_success"},
	}, {
		// A caller who asks for something else at the confirmation is
		// served, and no money moves.
		name: "another request at the payment's confirmation", caller: "15550100", speech: true,
		turns: []turn{keys("2468#"), keys("3"), keys("1"), say(asr.IntentBalance, "", "what is my balance"),
			say(asr.IntentGoodbye, "", "goodbye")},
		heard: []string{"pay_confirm_you_want", "num_50", "pay_confirm_yes_no", "pay_cancelled",
			"bal_your_balance_is", "num_3", "num_hundred", "goodbye"},
		notHeard: []string{"pay_success", "transferring"},
		outcome:  OutcomeCompleted,
	}, {
		name: "another request at the payment choice", caller: "15550100", speech: true,
		turns: []turn{keys("2468#"), keys("3"), say(asr.IntentPaymentStatus, "", "did my payment go through"),
			say(asr.IntentGoodbye, "", "goodbye")},
		heard:    []string{"pay_amount_ask", "goodbye"},
		notHeard: []string{"pay_cancelled", "pay_confirm_you_want", "pay_success", "transferring"},
		outcome:  OutcomeCompleted,
	}, {
		name: "a request at 'end the call?' is a no, and served", caller: "15550100", speech: true,
		turns: []turn{keys("2468#"), say(asr.IntentGoodbye, "", "i'm done please"),
			say(asr.IntentBalance, "", "what is my balance"), say(asr.IntentGoodbye, "", "goodbye")},
		heard:    []string{"id_verified", "bye_confirm", "bal_your_balance_is", "num_3", "goodbye"},
		notHeard: []string{"transferring"},
		outcome:  OutcomeCompleted,
	}, {
		// The same at the PIN step is only a no: nothing is told before
		// the PIN.
		name: "a request at 'end the call?' before the PIN is only a no", caller: "15550100", speech: true,
		turns: []turn{say(asr.IntentGoodbye, "", "bye"), say(asr.IntentBalance, "", "what is my balance"),
			keys("2468#"), keys("0")},
		heard:    []string{"id_caller_found", "bye_confirm", "id_pin_ask", "id_verified", "transferring"},
		notHeard: []string{"bal_your_balance_is"},
		outcome:  OutcomeHandover, handover: store.HandoverAsked,
	}, {
		name: "same payment twice is one payment", caller: "15550100",
		turns: []turn{keys("2468#"), keys("3"), keys("3"), keys("20#"), keys("1"),
			keys("3"), keys("3"), keys("20#"), keys("1"), keys("0")},
		heard:   []string{"pay_other_amount_ask", "num_20", "word_dollars", "pay_success", "pay_other_amount_ask", "pay_success"},
		outcome: OutcomeHandover, handover: store.HandoverAsked, payments: 1,
	}, {
		name: "amount over the balance and zero refused", caller: "15550100",
		turns:   []turn{keys("2468#"), keys("3"), keys("3"), keys("400#"), keys("0*00#"), keys("12*5#"), keys("1"), keys("0")},
		heard:   []string{"pay_amount_exceeds", "pay_amount_zero", "pay_confirm_you_want", "num_12", "word_dollars", "num_50", "word_cents", "pay_success"},
		outcome: OutcomeHandover, handover: store.HandoverAsked, payments: 1,
	}, {
		name: "amount said right away", caller: "15550100", speech: true,
		turns: []turn{keys("2468#"), say(asr.IntentMakePayment, "", "i want to make a payment"),
			say(asr.IntentAmount, "45.50", "forty five fifty"), say(asr.IntentYes, "", "yes"),
			say(asr.IntentGoodbye, "", "bye")},
		heard:   []string{"pay_confirm_you_want", "num_40", "num_5", "word_dollars", "word_and", "num_50", "word_cents", "pay_success"},
		outcome: OutcomeCompleted, payments: 1,
	}, {
		name: "store write fails: never reported as done", caller: "15550100",
		mod:      func(m *memStore) { m.failPay = true },
		turns:    []turn{keys("2468#"), keys("3"), keys("1"), keys("1"), keys("0")},
		heard:    []string{"pay_confirm_yes_no", "pay_failed", "anything_else"},
		notHeard: []string{"pay_success", "pay_confirmation_number"},
		outcome:  OutcomeHandover, handover: store.HandoverAsked,
	}, {
		name: "three wrong PINs lock the account", caller: "15550100",
		turns:    []turn{keys("1111#"), keys("2222#"), keys("3333#"), keys("1")},
		heard:    []string{"id_pin_ask", "id_pin_incorrect", "id_pin_ask", "id_pin_incorrect", "id_pin_ask", "id_account_locked", "transferring"},
		notHeard: []string{"bal_your_balance_is", "num_3", "id_verified"},
		outcome:  OutcomeHandover, handover: store.HandoverBotFailed,
		check: func(t *testing.T, b *Bot, st *memStore) {
			if st.accounts[0].LockedUntil.IsZero() {
				t.Error("account not locked")
			}
			rec := b.Record()
			if strings.Join(rec.DTMF, ",") != "****#,****#,****#" || rec.Verified {
				t.Errorf("record DTMF %q verified %v", rec.DTMF, rec.Verified)
			}
		},
	}, {
		name: "unknown caller by account number", caller: "15559999",
		turns:   []turn{keys("99999#"), keys("10003#"), keys("8642#"), keys("1"), keys("0")},
		heard:   []string{"id_account_ask", "id_account_not_found", "id_account_ask", "id_pin_ask", "id_verified", "bal_your_balance_is", "num_9", "num_hundred", "num_80"},
		outcome: OutcomeHandover, handover: store.HandoverAsked,
		check: func(t *testing.T, b *Bot, _ *memStore) {
			if rec := b.Record(); rec.AccountNumber != "10003" || !rec.Verified || strings.Join(rec.DTMF, ",") != "99999#,10003#,****#,1,0" {
				t.Errorf("record %+v", rec)
			}
		},
	}, {
		name: "no input three times", caller: "15550100",
		turns:   []turn{silence, silence, silence, silence},
		heard:   []string{"id_pin_ask", "no_input", "id_pin_ask", "no_input", "keypad_fallback", "id_pin_ask", "handoff_frustration", "transferring"},
		outcome: OutcomeHandover, handover: store.HandoverBotFailed,
		check: func(t *testing.T, b *Bot, _ *memStore) {
			if h := b.Record().Handover; h.Detail != "pin: no_input" {
				t.Errorf("handover detail %q", h.Detail)
			}
		},
	}, {
		name: "no match then keypad", caller: "15550100", speech: true,
		turns: []turn{keys("2468#"), noMatch("umm"), noMatch("what"), keys("1"), keys("0")},
		heard: []string{"no_match", "menu_speech_hint", "no_match", "keypad_fallback", "menu_bot_dtmf",
			"bal_your_balance_is"},
		outcome: OutcomeHandover, handover: store.HandoverAsked,
	}, {
		name: "agent at the PIN by a lone 0", caller: "15550100",
		turns:   []turn{keys("0#")},
		heard:   []string{"id_pin_ask", "transferring"},
		outcome: OutcomeHandover, handover: store.HandoverAsked,
	}, {
		name: "agent said at the PIN", caller: "15550100", speech: true,
		turns:   []turn{silence, silence, say(asr.IntentAgent, "", "agent")}, // said as the PIN is asked
		heard:   []string{"id_pin_ask", "transferring"},
		outcome: OutcomeHandover, handover: store.HandoverAsked, check: handedOverAt("pin", asr.GrammarDigits),
	}, {
		name: "agent said at the payment choice", caller: "15550100", speech: true,
		turns:   []turn{keys("2468#"), keys("3"), say(asr.IntentAgent, "", "representative please")},
		heard:   []string{"pay_amount_ask", "transferring"},
		outcome: OutcomeHandover, handover: store.HandoverAsked, check: handedOverAt("pay_choice", grammarPay),
	}, {
		name: "agent said at the amount", caller: "15550100", speech: true,
		turns:    []turn{keys("2468#"), keys("3"), keys("3"), say(asr.IntentAgent, "", "i want to talk to a person")},
		heard:    []string{"pay_other_amount_ask", "transferring"},
		notHeard: []string{"pay_confirm_you_want"},
		outcome:  OutcomeHandover, handover: store.HandoverAsked, check: handedOverAt("pay_amount", asr.GrammarAmount),
	}, {
		name: "agent said at the confirmation: no payment", caller: "15550100", speech: true,
		turns:    []turn{keys("2468#"), keys("3"), keys("1"), say(asr.IntentAgent, "", "agent")},
		heard:    []string{"pay_confirm_yes_no", "transferring"},
		notHeard: []string{"pay_success", "pay_cancelled"},
		outcome:  OutcomeHandover, handover: store.HandoverAsked, check: handedOverAt("pay_confirm", asr.GrammarConfirm),
	}, {
		name: "repeat and last payment status", caller: "15550100",
		turns:   []turn{keys("2468#"), keys("4"), keys("1"), keys("9"), keys("0")},
		heard:   []string{"last_none", "anything_else", "bal_your_balance_is", "anything_else", "bal_your_balance_is", "transferring"},
		outcome: OutcomeHandover, handover: store.HandoverAsked,
	}, {
		name: "speech fails mid-call: keypad", caller: "15550100", speech: true,
		turns:   []turn{keys("2468#"), {speech: &asr.Event{Type: asr.EventError}}, keys("1"), keys("0")},
		heard:   []string{"asr_unavailable", "menu_bot_dtmf", "bal_your_balance_is"},
		outcome: OutcomeHandover, handover: store.HandoverAsked,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			if tc.mod != nil {
				tc.mod(st)
			}
			call := newFakeCall(tc.speech, tc.turns...)
			b := runBot(t, st, tc.caller, call, nil)
			heard := call.heard()
			if !subsequence(heard, tc.heard) {
				t.Errorf("heard %v\nwant in order %v", heard, tc.heard)
			}
			for _, p := range tc.notHeard {
				if strings.Contains(joined(heard), " "+p+" ") {
					t.Errorf("heard %s: %v", p, heard)
				}
			}
			rec := b.Record()
			if rec.Outcome != tc.outcome {
				t.Errorf("outcome %q, want %q", rec.Outcome, tc.outcome)
			}
			if got := ""; rec.Handover != nil {
				got = rec.Handover.Reason
				if got != tc.handover {
					t.Errorf("handover %+v, want %q", rec.Handover, tc.handover)
				}
			} else if tc.handover != "" {
				t.Errorf("no handover, want %q", tc.handover)
			}
			if len(st.payments) != tc.payments {
				t.Errorf("%d payments in the store, want %d", len(st.payments), tc.payments)
			}
			if st.calls["call-1@test"] == nil {
				t.Error("call record not saved")
			}
			if tc.check != nil {
				tc.check(t, b, st)
			}
		})
	}
}

// subsequence reports whether want appears in got in order (not
// necessarily next to each other).
func subsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// handedOverAt checks that the caller was handed over at step, asking by
// voice while the bot listened with grammar (grammarPay: the call's
// Config.PayGrammar, "" in these tests, so not checked).
func handedOverAt(step, grammar string) func(*testing.T, *Bot, *memStore) {
	return func(t *testing.T, b *Bot, _ *memStore) {
		t.Helper()
		rec := b.Record()
		if rec.Handover == nil || rec.Handover.Detail != step {
			t.Errorf("handover %+v, want at %s", rec.Handover, step)
		}
		if !slices.ContainsFunc(rec.Transcript, func(tu store.Turn) bool {
			return tu.Who == WhoCaller && tu.Input == InputSpeech && tu.Intent == asr.IntentAgent
		}) {
			t.Errorf("no spoken agent turn: %+v", rec.Transcript)
		}
		if grammar != grammarPay {
			if g := b.call.(*fakeCall).grammar; len(g) == 0 || g[len(g)-1] != grammar {
				t.Errorf("listened with %v, want %s last", g, grammar)
			}
		}
	}
}

func hasTurn(rec *store.CallRecord, who, text, intent string) bool {
	for _, tu := range rec.Transcript {
		if tu.Who == who && tu.Text == text && tu.Intent == intent {
			return true
		}
	}
	return false
}
