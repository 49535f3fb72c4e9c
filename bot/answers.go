package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/store"
)

// menuPrompt is "anything else?" once the caller had an answer; nil (the
// table's menu) before.
func (b *Bot) menuPrompt() []string {
	if b.again {
		return []string{"anything_else"}
	}
	return nil
}

// onMenu answers a verified caller's request.
func (b *Bot) onMenu(ctx context.Context, a answer) (stepID, error) {
	switch a.intent {
	case asr.IntentBalance:
		return b.answerMoney(ctx, []string{"bal_your_balance_is"}, b.acct.Balance, nil)
	case asr.IntentNextPayment:
		if b.acct.NextAmount.Minor <= 0 || b.acct.NextDue.IsZero() {
			return b.answer(ctx, []string{"next_none"})
		}
		return b.answerMoney(ctx, []string{"next_payment_of"}, b.acct.NextAmount,
			append([]string{"next_is_due_on"}, prompts.SayDate(b.acct.NextDue)...))
	case asr.IntentPaymentStatus:
		return b.lastPayment(ctx)
	case asr.IntentMakePayment:
		if b.acct.CardLast4 == "" {
			return b.answer(ctx, []string{"pay_no_card"})
		}
		b.pay = payment{}
		return stepPayChoice, nil
	case asr.IntentRepeat:
		if b.lastAnswer == nil {
			b.again = false
			return stepMenu, nil
		}
		return b.answer(ctx, b.lastAnswer)
	}
	b.again = false // main menu
	return stepMenu, nil
}

// answer says an answer, remembers it for "repeat", and goes back to the
// menu with "anything else?".
func (b *Bot) answer(ctx context.Context, clips []string) (stepID, error) {
	b.lastAnswer, b.again = clips, true
	return b.sayBefore(ctx, stepMenu, clips...)
}

// answerMoney says before, the amount m, then after.
func (b *Bot) answerMoney(ctx context.Context, before []string, m store.Money, after []string) (stepID, error) {
	money, err := prompts.SayMoney(m.Minor, m.Currency)
	if err != nil {
		return b.storeFailed(ctx, "say money", err)
	}
	clips := make([]string, 0, len(before)+len(money)+len(after))
	clips = append(append(append(clips, before...), money...), after...)
	return b.answer(ctx, clips)
}

// lastPayment says the account's newest payment: amount, status, date.
func (b *Bot) lastPayment(ctx context.Context) (stepID, error) {
	sctx, cancel := context.WithTimeout(ctx, b.cfg.StoreTimeout)
	p, err := b.cfg.Store.LastPayment(sctx, b.acct.ID)
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && p == nil):
		return b.answer(ctx, []string{"last_none"})
	case err != nil:
		return b.storeFailed(ctx, "last payment", err)
	}
	var after []string
	if st := b.statusPrompt(p.Status); st != "" {
		after = []string{"word_was", st}
	}
	after = append(after, "word_on")
	return b.answerMoney(ctx, []string{"last_payment_of"}, p.Amount, append(after, prompts.SayDate(p.CreatedAt)...))
}

// statusPrompt is the prompt of a payment status ("" when there is none):
// a completed payment was received.
func (b *Bot) statusPrompt(status string) string {
	name := "status_" + status
	if status == store.PaymentCompleted {
		name = "status_received"
	}
	if _, err := b.cfg.Prompts.Get(name); err != nil {
		return ""
	}
	return name
}

// served reports whether the caller asked the bot for something it
// answers by itself (servedIntents; a payment starts with one): only then
// does a spoken goodbye end the call at once.
func (b *Bot) served() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return askedServed(b.rec.Intents)
}

// onByeConfirm ends the call on a yes and goes back to the step the
// goodbye was heard at on a no.
func (b *Bot) onByeConfirm(ctx context.Context, a answer) (stepID, error) {
	switch {
	case a.intent == asr.IntentYes:
		return stepGoodbye, nil
	case slices.Contains(menuIntents, a.intent) && b.verified():
		// "What's my balance?" to "Do you want to end the call?": a no,
		// and the request. Before the PIN it is only a no: the question
		// can come at the PIN step, and nothing is told an unverified
		// caller.
		return b.onMenu(ctx, a)
	}
	return b.byeFrom, nil
}

// verified reports whether the caller has given the account's PIN.
func (b *Bot) verified() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rec.Verified
}

// goodbye ends the call in the bot.
func (b *Bot) goodbye(ctx context.Context) (stepID, error) {
	b.mu.Lock()
	b.rec.Outcome = OutcomeCompleted
	b.mu.Unlock()
	return stepEnd, b.say(ctx, "goodbye")
}

// handover records the request for a person and ends the bot's part of
// the call; the coordinator bridges it to an agent.
func (b *Bot) handover(ctx context.Context, reason, detail string, lead ...string) (stepID, error) {
	b.log.Info("bot: handover", "reason", reason, "detail", detail)
	b.mu.Lock()
	b.rec.Handover = &store.Handover{Reason: reason, Detail: detail, At: b.since()}
	b.rec.Outcome = OutcomeHandover
	b.mu.Unlock()
	return stepEnd, b.sayNotice(ctx, append(lead, "transferring")...)
}

// storeFailed tells the caller something went wrong and hands the call to
// a person: an error is never an answer.
func (b *Bot) storeFailed(ctx context.Context, op string, err error) (stepID, error) {
	if ctx.Err() != nil {
		return stepEnd, ctx.Err()
	}
	b.log.Error("bot: "+op+" failed", "error", err)
	return b.handover(ctx, store.HandoverBotFailed, fmt.Sprintf("error: %s: %v", op, err), "technical_error")
}
