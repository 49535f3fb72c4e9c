package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/store"
)

// maxRefusals is how many refused amounts a caller may give before being
// handed to a person.
const maxRefusals = 3

// payment is the payment being set up on the call.
type payment struct {
	amount   store.Money
	refusals int
	card     keyedCard // a card keyed in on the call (card.go)
}

// IdempotencyKey is the store key of a confirmed payment: a hash of the
// call and the request (account, amount, currency, card). The same
// request confirmed twice on one call (the caller repeats it, or a retry
// after a failed write) has the same key, so the store takes it once.
func IdempotencyKey(callID string, accountID int64, amount store.Money, cardLast4 string) string {
	h := sha256.New()
	for _, part := range []string{callID, strconv.FormatInt(accountID, 10),
		strconv.FormatInt(amount.Minor, 10), amount.Currency, cardLast4} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "call-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// onPayChoice takes the next installment, the full balance, an amount said
// right away, or goes on to ask for another amount.
func (b *Bot) onPayChoice(ctx context.Context, a answer) (stepID, error) {
	switch a.intent {
	case IntentPayNext:
		return b.setAmount(ctx, b.acct.NextAmount)
	case IntentPayFull:
		return b.setAmount(ctx, b.acct.Balance)
	case IntentPayOther:
		return stepPayAmount, nil
	case asr.IntentAmount:
		return b.onPayAmount(ctx, a)
	}
	if slices.Contains(menuIntents, a.intent) {
		return b.changeSubject(ctx, a, false)
	}
	b.again = false // main menu
	return stepMenu, nil
}

// changeSubject leaves the payment being set up for another of the
// menu's requests, and serves it. Nothing has been paid: money moves only
// on a yes at the confirmation. pending says an amount was already put to
// the caller, who then hears that the payment is cancelled.
func (b *Bot) changeSubject(ctx context.Context, a answer, pending bool) (stepID, error) {
	b.log.Info("bot: payment left for another request", "intent", a.intent, "amount_pending", pending)
	b.pay = payment{}
	if pending {
		if err := b.say(ctx, "pay_cancelled"); err != nil {
			return stepEnd, err
		}
	}
	return b.onMenu(ctx, a)
}

// onPayAmount reads the amount the caller said or keyed.
func (b *Bot) onPayAmount(ctx context.Context, a answer) (stepID, error) {
	cents, err := ParseAmount(a.value)
	if err != nil {
		b.log.Info("bot: bad amount", "error", err)
		return b.refuse(ctx, "invalid_key")
	}
	return b.setAmount(ctx, store.Money{Minor: cents, Currency: b.acct.Balance.Currency})
}

// setAmount checks the amount against the balance and goes on to confirm.
func (b *Bot) setAmount(ctx context.Context, m store.Money) (stepID, error) {
	switch err := ValidateAmount(m, b.acct.Balance); {
	case errors.Is(err, ErrAmountZero):
		return b.refuse(ctx, "pay_amount_zero")
	case errors.Is(err, ErrAmountOverBalance):
		return b.refuse(ctx, "pay_amount_exceeds")
	}
	b.pay.amount = m
	return stepPayConfirm, nil
}

// refuse says why an amount was refused and asks for another; the third
// refusal hands the call to a person.
func (b *Bot) refuse(ctx context.Context, why string) (stepID, error) {
	b.pay.refusals++
	b.log.Info("bot: amount refused", "why", why, "refusals", b.pay.refusals)
	if b.pay.refusals >= maxRefusals {
		return b.handover(ctx, store.HandoverBotFailed, "pay_amount: "+why, why, "handoff_frustration")
	}
	return b.sayBefore(ctx, stepPayAmount, why)
}

// confirmPrompt reads the payment back: amount and card's last four.
func (b *Bot) confirmPrompt() []string {
	money, err := prompts.SayMoney(b.pay.amount.Minor, b.pay.amount.Currency)
	if err != nil {
		money = []string{"pay_other_amount"} // unreachable for USD accounts
	}
	out := append([]string{"pay_confirm_you_want"}, money...)
	out = append(out, "pay_card_ending")
	out = append(out, prompts.SayDigits(b.cardLast4())...)
	return append(out, "pay_confirm_yes_no", "pay_card_other_dtmf")
}

// onConfirm takes the payment on yes, drops it on no.
func (b *Bot) onConfirm(ctx context.Context, a answer) (stepID, error) {
	switch a.intent {
	case asr.IntentYes:
		return b.makePayment(ctx)
	case asr.IntentNo:
		b.log.Info("bot: payment declined by caller")
		return b.answer(ctx, []string{"pay_cancelled"})
	case IntentOtherCard:
		return b.otherCard()
	}
	if slices.Contains(menuIntents, a.intent) {
		return b.changeSubject(ctx, a, true)
	}
	b.again = false // main menu
	return stepMenu, nil
}

// makePayment writes the confirmed payment, once: the key comes from the
// call and the request, and the write goes on if the caller hangs up
// meanwhile. Only a payment the store took is reported as done.
func (b *Bot) makePayment(ctx context.Context) (stepID, error) {
	req := store.PaymentRequest{
		AccountID: b.acct.ID, Amount: b.pay.amount, CardLast4: b.cardLast4(), KeyedCard: b.pay.card.complete,
		Now:            b.cfg.Now(),
		IdempotencyKey: IdempotencyKey(b.cfg.CallID, b.acct.ID, b.pay.amount, b.cardLast4()),
		CallID:         b.cfg.CallID,
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.StoreTimeout)
	p, err := b.cfg.Store.MakePayment(wctx, req)
	cancel()
	if err != nil {
		b.log.Error("bot: payment failed", "error", err, "amount", req.Amount.Minor)
		if ctx.Err() != nil {
			return stepEnd, ctx.Err()
		}
		b.lastAnswer, b.again = []string{"pay_failed"}, true
		b.listen(b.steps[stepMenu])
		return stepMenu, b.sayNotice(ctx, "pay_failed")
	}
	b.log.Info("bot: payment taken", "payment", p.ID, "amount", p.Amount.Minor, "confirmation", p.Confirmation)
	b.mu.Lock()
	if !slices.Contains(b.rec.Payments, p.ID) {
		b.rec.Payments = append(b.rec.Payments, p.ID)
	}
	b.mu.Unlock()
	b.refresh(ctx)
	if ctx.Err() != nil {
		return stepEnd, ctx.Err()
	}
	code := prompts.SayDigits(p.Confirmation)
	if len(code) != len(p.Confirmation) { // the store issues digits; anything else would go unsaid
		b.log.Error("bot: confirmation has characters no prompt says", "payment", p.ID, "said", len(code),
			"of", len(p.Confirmation))
	}
	clips := append([]string{"pay_success", "pay_confirmation_number"}, code...)
	return b.answer(ctx, clips)
}

// refresh re-reads the account after a payment (the balance changed); on
// failure the call keeps the old figures.
func (b *Bot) refresh(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, b.cfg.StoreTimeout)
	defer cancel()
	acct, err := b.cfg.Store.AccountByNumber(sctx, b.acct.Number)
	if err != nil {
		b.log.Warn("bot: account refresh failed", "error", err)
		return
	}
	b.acct = acct
}
