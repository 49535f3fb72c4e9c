package bridge

import (
	"testing"
	"time"

	"github.com/supportline/ivr/store"
)

func TestNewHandoffCard(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := store.SeedDemo(ctx, st); err != nil {
		t.Fatal(err)
	}
	acct, err := st.AccountByNumber(ctx, "10001")
	if err != nil {
		t.Fatal(err)
	}
	pay, err := st.MakePayment(ctx, store.PaymentRequest{AccountID: acct.ID, Amount: acct.NextAmount, IdempotencyKey: "c1/pay"})
	if err != nil {
		t.Fatal(err)
	}
	turns := []store.Turn{{At: 1500 * time.Millisecond, Who: "bot", Text: "Thanks for calling."},
		{At: 65 * time.Second, Who: "caller", Text: "****", Input: "dtmf"}}
	tests := []struct {
		name string
		rec  store.CallRecord
		want func(c HandoffCard) bool
	}{
		{"verified with a payment", store.CallRecord{ID: "c1", From: "+15550100", AccountNumber: "10001", Verified: true,
			Transcript: turns, Payments: []int64{pay.ID}, Handover: &store.Handover{Reason: store.HandoverFrustration, Detail: "no-match x3"}},
			func(c HandoffCard) bool {
				return c.Verified && c.Balance != "" && c.NextDue != "" && len(c.Payments) == 1 &&
					c.Payments[0].Confirmation == pay.Confirmation && c.Reason == "frustration" &&
					c.ReasonDetail == "no-match x3" && c.Transcript[0].At == "0:02" && c.Transcript[1].At == "1:05" &&
					c.Transcript[1].Text == "****"
			}},
		{"unverified: no account shown", store.CallRecord{ID: "c2", From: "+15550100", AccountNumber: "10001",
			Transcript: turns, Handover: &store.Handover{Reason: store.HandoverAsked}},
			func(c HandoffCard) bool {
				return !c.Verified && c.AccountNumber == "" && c.Balance == "" && len(c.Transcript) == 2
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewHandoffCard(ctx, st, &tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(c) {
				t.Fatalf("card %+v", c)
			}
		})
	}
}
