package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/supportline/ivr/store"
)

// HandoffCard is what the agent sees when a call rings: who is calling,
// why, and what the bot already did. It is built from the bot's call
// record and the store and never holds a PIN or card digits (the record
// has them masked already).
type HandoffCard struct {
	CallID        string        `json:"call_id"`
	From          string        `json:"from"`
	Verified      bool          `json:"verified"`
	AccountNumber string        `json:"account_number,omitempty"`
	Balance       string        `json:"balance,omitempty"`
	NextAmount    string        `json:"next_amount,omitempty"`
	NextDue       string        `json:"next_due,omitempty"`
	Reason        string        `json:"reason"`
	ReasonDetail  string        `json:"reason_detail,omitempty"`
	Transcript    []CardTurn    `json:"transcript"`
	Payments      []CardPayment `json:"payments"`
	Started       time.Time     `json:"started"`
}

// CardTurn is one line of the bot transcript on the card.
type CardTurn struct {
	At   string `json:"at"` // since the call's start, m:ss
	Who  string `json:"who"`
	Text string `json:"text"`
}

// CardPayment is a payment made during the call.
type CardPayment struct {
	ID           int64  `json:"id"`
	Amount       string `json:"amount"`
	Status       string `json:"status"`
	Confirmation string `json:"confirmation"`
}

// CardStore is what building a card reads from the store.
type CardStore interface {
	AccountByNumber(ctx context.Context, number string) (*store.Account, error)
	Payments(ctx context.Context, accountID int64, limit int) ([]store.Payment, error)
}

// NewHandoffCard builds the card for rec. The account and payments are read
// only for a verified caller (an unverified caller's account is not shown);
// a store error leaves them out and is returned with the card.
func NewHandoffCard(ctx context.Context, st CardStore, rec *store.CallRecord) (HandoffCard, error) {
	c := HandoffCard{CallID: rec.ID, From: rec.From, Verified: rec.Verified, Started: rec.Start,
		Transcript: []CardTurn{}, Payments: []CardPayment{}}
	if rec.Handover != nil {
		c.Reason, c.ReasonDetail = rec.Handover.Reason, rec.Handover.Detail
	}
	for _, t := range rec.Transcript {
		c.Transcript = append(c.Transcript, CardTurn{At: clock(t.At), Who: t.Who, Text: t.Text})
	}
	if rec.AccountNumber == "" || !rec.Verified || st == nil {
		return c, nil
	}
	c.AccountNumber = rec.AccountNumber
	acct, err := st.AccountByNumber(ctx, rec.AccountNumber)
	if err != nil {
		return c, fmt.Errorf("handoff card: account: %w", err)
	}
	c.Balance, c.NextAmount = acct.Balance.String(), acct.NextAmount.String()
	if !acct.NextDue.IsZero() {
		c.NextDue = acct.NextDue.Format(time.DateOnly)
	}
	return c, addPayments(ctx, st, acct.ID, rec.Payments, &c)
}

func addPayments(ctx context.Context, st CardStore, accountID int64, ids []int64, c *HandoffCard) error {
	if len(ids) == 0 {
		return nil
	}
	pays, err := st.Payments(ctx, accountID, 50)
	if err != nil {
		return fmt.Errorf("handoff card: payments: %w", err)
	}
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for _, p := range pays {
		if want[p.ID] {
			c.Payments = append(c.Payments, CardPayment{ID: p.ID, Amount: p.Amount.String(), Status: p.Status, Confirmation: p.Confirmation})
			delete(want, p.ID)
		}
	}
	if len(want) > 0 {
		return errors.New("handoff card: a payment of the call was not found")
	}
	return nil
}

// clock formats a call offset as m:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
