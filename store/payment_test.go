package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMakePaymentOnce(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	id := addAccount(t, st, demo()).ID
	now := day(2026, time.June, 1)
	req := PaymentRequest{AccountID: id, Amount: usd(5410), CardLast4: "4242", IdempotencyKey: "call-1/pay-1", Now: now}
	p1, err := st.MakePayment(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Status != PaymentCompleted || len(p1.Confirmation) != confirmationLen || p1.CardLast4 != "4242" || !p1.CreatedAt.Equal(now) {
		t.Fatalf("payment %+v", p1)
	}
	for _, c := range p1.Confirmation {
		if c < '0' || c > '9' {
			t.Fatalf("confirmation %q has %q: the bot can speak digits only", p1.Confirmation, c)
		}
	}
	req.Now = now.Add(time.Minute) // the caller says "yes" again
	p2, err := st.MakePayment(ctx, req)
	if err != nil || *p2 != *p1 {
		t.Fatalf("repeat = %+v, %v; want the first %+v", p2, err, p1)
	}
	req.CardLast4 = "" // card on file, same payment
	if p3, err := st.MakePayment(ctx, req); err != nil || p3.ID != p1.ID {
		t.Fatalf("repeat without card = %+v, %v", p3, err)
	}
	a := mustAccount(t, st, "10001")
	if a.Balance != usd(32109-5410) || a.NextDue != day(2027, time.January, 5) || a.NextAmount != usd(5410) {
		t.Fatalf("account after one installment: %+v", a)
	}
	if last, err := st.LastPayment(ctx, id); err != nil || last.ID != p1.ID {
		t.Fatalf("LastPayment = %+v, %v", last, err)
	}
	// The same key for another amount is a conflict, not a second payment.
	req.Amount = usd(100)
	if _, err := st.MakePayment(ctx, req); !errors.Is(err, ErrIdempotencyConflict) || !errors.Is(err, ErrPaymentNotMade) {
		t.Fatalf("reused key, other amount: %v", err)
	}
	if ps, _ := st.Payments(ctx, id, 10); len(ps) != 1 {
		t.Fatalf("%d payments", len(ps))
	}
}

func TestMakePaymentConcurrentSameKey(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	id := addAccount(t, st, demo()).ID
	req := PaymentRequest{AccountID: id, Amount: usd(1000), IdempotencyKey: "same-key"}
	var wg sync.WaitGroup
	got := make([]*Payment, 20)
	for i := range got {
		wg.Go(func() {
			p, err := st.MakePayment(ctx, req)
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		})
	}
	wg.Wait()
	for _, p := range got {
		if p == nil || p.ID != got[0].ID || p.Confirmation != got[0].Confirmation {
			t.Fatalf("payments differ: %+v vs %+v", p, got[0])
		}
	}
	if ps, err := st.Payments(ctx, id, 0); err != nil || len(ps) != 1 {
		t.Fatalf("%d payments, %v", len(ps), err)
	}
	if a := mustAccount(t, st, "10001"); a.Balance != usd(32109-1000) {
		t.Fatalf("balance %v: decremented more than once", a.Balance)
	}
}

// snapshot is everything a payment may change.
func snapshot(t *testing.T, st *SQLite, number string) (Account, int) {
	t.Helper()
	a := mustAccount(t, st, number)
	ps, err := st.Payments(context.Background(), a.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return *a, len(ps)
}

func TestMakePaymentRefused(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	acc := addAccount(t, st, demo())
	now := day(2026, time.June, 1)
	req := func(mod func(*PaymentRequest)) PaymentRequest {
		r := PaymentRequest{AccountID: acc.ID, Amount: usd(1000), CardLast4: "4242", IdempotencyKey: "k", Now: now}
		mod(&r)
		return r
	}
	tests := []struct {
		name string
		req  PaymentRequest
		want error
	}{
		{"zero", req(func(r *PaymentRequest) { r.Amount = usd(0) }), ErrBadAmount},
		{"negative", req(func(r *PaymentRequest) { r.Amount = usd(-1) }), ErrBadAmount},
		{"above balance", req(func(r *PaymentRequest) { r.Amount = usd(32110) }), ErrExceedsBalance},
		{"currency", req(func(r *PaymentRequest) { r.Amount = Money{1000, "EUR"} }), ErrCurrencyMismatch},
		{"other card", req(func(r *PaymentRequest) { r.CardLast4 = "1111" }), ErrCardMismatch},
		{"bad card", req(func(r *PaymentRequest) { r.CardLast4 = "42" }), ErrInvalid},
		{"no key", req(func(r *PaymentRequest) { r.IdempotencyKey = "" }), ErrInvalid},
		{"no account", req(func(r *PaymentRequest) { r.AccountID = 999 }), ErrNotFound},
	}
	before, n := snapshot(t, st, "10001")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := st.MakePayment(ctx, tt.req)
			if p != nil || !errors.Is(err, tt.want) || !errors.Is(err, ErrPaymentNotMade) {
				t.Fatalf("MakePayment = %+v, %v; want %v and ErrPaymentNotMade", p, err, tt.want)
			}
			after, m := snapshot(t, st, "10001")
			if after.Balance != before.Balance || !after.NextDue.Equal(before.NextDue) || m != n {
				t.Fatalf("changed: %+v, %d payments", after, m)
			}
		})
	}
	// A refused key is not burnt: the same key works for a valid request.
	if _, err := st.MakePayment(ctx, req(func(*PaymentRequest) {})); err != nil {
		t.Fatal(err)
	}
}

func TestMakePaymentSchedule(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		due       time.Time
		pay       int64
		balance   int64
		next      int64
		wantDue   time.Time
		wantNext  int64
		wantAfter int64
	}{
		{"installment", day(2026, time.December, 5), 5410, 32109, 5410, day(2027, time.January, 5), 5410, 26699},
		{"more than one", day(2026, time.December, 5), 20000, 32109, 5410, day(2027, time.January, 5), 5410, 12109},
		{"partial", day(2026, time.December, 5), 1000, 32109, 5410, day(2026, time.December, 5), 5410, 31109},
		{"month end", day(2027, time.January, 31), 5410, 32109, 5410, day(2027, time.February, 28), 5410, 26699},
		{"leap", day(2028, time.January, 30), 5410, 32109, 5410, day(2028, time.February, 29), 5410, 26699},
		{"paid off", day(2026, time.December, 5), 32109, 32109, 5410, time.Time{}, 0, 0},
		{"last installment capped", day(2026, time.December, 5), 5410, 8000, 5410, day(2027, time.January, 5), 2590, 2590},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openTemp(t)
			id := addAccount(t, st, NewAccount{Number: "10001", PIN: "2468", Balance: usd(tt.balance),
				NextAmount: usd(tt.next), NextDue: tt.due, CardLast4: "4242"}).ID
			if _, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(tt.pay), IdempotencyKey: "k"}); err != nil {
				t.Fatal(err)
			}
			a := mustAccount(t, st, "10001")
			if !a.NextDue.Equal(tt.wantDue) || a.NextAmount.Minor != tt.wantNext || a.Balance.Minor != tt.wantAfter {
				t.Fatalf("due %v next %v balance %v; want %v %d %d", a.NextDue, a.NextAmount, a.Balance, tt.wantDue, tt.wantNext, tt.wantAfter)
			}
		})
	}
}

// TestMakePaymentWriteFails: when the write fails the error says the
// payment was not made, and nothing changed.
func TestMakePaymentWriteFails(t *testing.T) {
	ctx := context.Background()
	t.Run("fails mid-transaction", func(t *testing.T) {
		st := openTemp(t)
		id := addAccount(t, st, demo()).ID
		// The balance update succeeds first; then the payment insert fails.
		if _, err := st.db.Exec(`CREATE TRIGGER fail BEFORE INSERT ON payments BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
			t.Fatal(err)
		}
		before, _ := snapshot(t, st, "10001")
		_, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(5410), IdempotencyKey: "k"})
		if !errors.Is(err, ErrPaymentNotMade) {
			t.Fatalf("err = %v", err)
		}
		after, n := snapshot(t, st, "10001")
		if after.Balance != before.Balance || !after.NextDue.Equal(before.NextDue) || n != 0 {
			t.Fatalf("half a payment: %+v, %d payments", after, n)
		}
	})
	t.Run("database locked by another process", func(t *testing.T) {
		dir := t.TempDir()
		st := openDir(t, dir, WithBusyTimeout(50*time.Millisecond))
		other := openDir(t, dir)
		id := addAccount(t, st, demo()).ID
		conn, err := other.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			t.Fatal(err)
		}
		_, err = st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(5410), IdempotencyKey: "k"})
		if !errors.Is(err, ErrPaymentNotMade) {
			t.Fatalf("err = %v", err)
		}
		if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
			t.Fatal(err)
		}
		if a, n := snapshot(t, other, "10001"); a.Balance != usd(32109) || n != 0 {
			t.Fatalf("changed: %v, %d payments", a.Balance, n)
		}
		// The retry with the same key goes through once the lock is gone.
		if _, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(5410), IdempotencyKey: "k"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("store closed", func(t *testing.T) {
		dir := t.TempDir()
		st := openDir(t, dir)
		id := addAccount(t, st, demo()).ID
		st.Close()
		_, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(5410), IdempotencyKey: "k"})
		if !errors.Is(err, ErrPaymentNotMade) {
			t.Fatalf("err = %v", err)
		}
		if a, n := snapshot(t, openDir(t, dir), "10001"); a.Balance != usd(32109) || n != 0 {
			t.Fatalf("changed: %v, %d payments", a.Balance, n)
		}
	})
}

func TestLastPaymentNone(t *testing.T) {
	st := openTemp(t)
	id := addAccount(t, st, demo()).ID
	if _, err := st.LastPayment(context.Background(), id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func TestPaymentsNewestFirst(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	id := addAccount(t, st, demo()).ID
	for _, k := range []string{"a", "b", "c"} {
		if _, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(100), IdempotencyKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := st.Payments(ctx, id, 2)
	if err != nil || len(ps) != 2 || ps[0].IdempotencyKey != "c" || ps[1].IdempotencyKey != "b" {
		t.Fatalf("Payments = %+v, %v", ps, err)
	}
}

// TestConfirmationCollision: a confirmation code already taken by another
// payment is drawn again; a store that keeps drawing taken codes fails the
// payment and moves no money.
func TestConfirmationCollision(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	id := addAccount(t, st, demo()).ID
	now := day(2026, time.June, 1)
	codes := []string{"00012345", "00012345", "00012345", "98765432"}
	var draws int
	newConfirmation = func() (string, error) {
		c := codes[min(draws, len(codes)-1)]
		draws++
		return c, nil
	}
	t.Cleanup(func() { newConfirmation = randomConfirmation })

	p1, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(100), IdempotencyKey: "k1", Now: now})
	if err != nil || p1.Confirmation != "00012345" {
		t.Fatalf("first payment = %+v, %v", p1, err)
	}
	p2, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(200), IdempotencyKey: "k2", Now: now})
	if err != nil || p2.Confirmation != "98765432" || draws != 4 {
		t.Fatalf("second payment = %+v, %v after %d draws; want a fresh code after 2 collisions", p2, err, draws)
	}

	newConfirmation = func() (string, error) { return "98765432", nil }
	if p3, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(300), IdempotencyKey: "k3", Now: now}); err == nil {
		t.Fatalf("payment with only taken codes = %+v, want an error", p3)
	}
	if a := mustAccount(t, st, "10001"); a.Balance != usd(32109-300) {
		t.Fatalf("balance after a failed payment = %v, want %v", a.Balance, usd(32109-300))
	}
	if ps, err := st.Payments(ctx, id, 10); err != nil || len(ps) != 2 {
		t.Fatalf("payments = %+v, %v; want 2", ps, err)
	}
}

func TestRandomConfirmation(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := randomConfirmation()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != confirmationLen || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("confirmation %q: want %d digits", c, confirmationLen)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("%d distinct codes in 200 draws", len(seen))
	}
}

// TestPaymentKeyedCard: a card keyed in on the call is stored by its last
// four; without KeyedCard another card than the one on file is refused.
func TestPaymentKeyedCard(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	acc := addAccount(t, st, demo())
	req := PaymentRequest{AccountID: acc.ID, Amount: usd(100), CardLast4: "1111", IdempotencyKey: "k1"}
	if _, err := st.MakePayment(ctx, req); !errors.Is(err, ErrCardMismatch) {
		t.Fatalf("another card without KeyedCard: %v", err)
	}
	req.KeyedCard = true
	p, err := st.MakePayment(ctx, req)
	if err != nil || p.CardLast4 != "1111" {
		t.Fatalf("keyed card: %+v %v", p, err)
	}
	if _, err := st.MakePayment(ctx, PaymentRequest{AccountID: acc.ID, Amount: usd(100), KeyedCard: true,
		IdempotencyKey: "k2"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("keyed card without last four: %v", err)
	}
}
