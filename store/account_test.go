package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAddAccountValidation(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	mod := func(f func(*NewAccount)) NewAccount { a := demo(); f(&a); return a }
	tests := []struct {
		name string
		a    NewAccount
	}{
		{"short PIN", mod(func(a *NewAccount) { a.PIN = "123" })},
		{"long PIN", mod(func(a *NewAccount) { a.PIN = "123456789" })},
		{"letters PIN", mod(func(a *NewAccount) { a.PIN = "12a4" })},
		{"card 3", mod(func(a *NewAccount) { a.CardLast4 = "424" })},
		{"card 5", mod(func(a *NewAccount) { a.CardLast4 = "42424" })},
		{"card letters", mod(func(a *NewAccount) { a.CardLast4 = "42x2" })},
		{"phone no plus", mod(func(a *NewAccount) { a.Phones = []string{"15550100"} })},
		{"phone letters", mod(func(a *NewAccount) { a.Phones = []string{"+1555CALLME"} })},
		{"phone too long", mod(func(a *NewAccount) { a.Phones = []string{"+1234567890123456"} })},
		{"number letters", mod(func(a *NewAccount) { a.Number = "10a01" })},
		{"number short", mod(func(a *NewAccount) { a.Number = "101" })},
		{"negative balance", mod(func(a *NewAccount) { a.Balance = usd(-1) })},
		{"next above balance", mod(func(a *NewAccount) { a.NextAmount = usd(40000) })},
		{"next other currency", mod(func(a *NewAccount) { a.NextAmount = Money{5410, "EUR"} })},
		{"no due date", mod(func(a *NewAccount) { a.NextDue = time.Time{} })},
		{"no currency", mod(func(a *NewAccount) { a.Balance = Money{Minor: 1}; a.NextAmount = Money{} })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.AddAccount(ctx, tt.a)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v; want ErrInvalid", err)
			}
			if strings.Contains(err.Error(), tt.a.PIN) {
				t.Fatalf("PIN in error %q", err)
			}
		})
	}
	if as, _ := st.ListAccounts(ctx); len(as) != 0 {
		t.Fatalf("%d accounts added by invalid requests", len(as))
	}
}

func TestAddAccountDuplicates(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	addAccount(t, st, demo())
	other := NewAccount{Number: "20001", Phones: []string{"+15550199"}, PIN: "1111", Balance: usd(100), NextAmount: usd(0), CardLast4: "1111"}
	sameNumber, samePhone := other, other
	sameNumber.Number = "10001"
	samePhone.Phones = []string{"+1 555-0199", "+1 (555) 0100"} // normalizes to a taken one
	for name, a := range map[string]NewAccount{"number": sameNumber, "phone": samePhone} {
		if _, err := st.AddAccount(ctx, a); !errors.Is(err, ErrDuplicate) {
			t.Errorf("same %s: err = %v; want ErrDuplicate", name, err)
		}
	}
	// The failed phone insert rolled back the whole account.
	if _, err := st.AccountByNumber(ctx, "20001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half-added account: %v", err)
	}
	if _, err := st.AccountByPhone(ctx, "+15550199"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half-added phone: %v", err)
	}
}

func TestAccountLookups(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t, WithClock(func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }))
	a := demo()
	a.Phones = []string{"+15550100", "+44 20 7946 0000", "+15550100"}
	added := addAccount(t, st, a)
	want := &Account{ID: added.ID, Number: "10001", Phones: []string{"+15550100", "+442079460000"},
		Balance: usd(32109), NextAmount: usd(5410), NextDue: day(2026, time.December, 5), CardLast4: "4242",
		CreatedAt: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	if !reflect.DeepEqual(added, want) {
		t.Fatalf("added %+v\nwant  %+v", added, want)
	}
	for _, phone := range []string{"+15550100", "15550100", "+1 555 0100", "+442079460000"} {
		got, err := st.AccountByPhone(ctx, phone)
		if err != nil || got.ID != added.ID {
			t.Errorf("AccountByPhone(%q) = %v, %v", phone, got, err)
		}
	}
	for _, phone := range []string{"anonymous", "", "+15550101", "sip:+15550100@x"} {
		if _, err := st.AccountByPhone(ctx, phone); !errors.Is(err, ErrNotFound) {
			t.Errorf("AccountByPhone(%q) = %v; want ErrNotFound", phone, err)
		}
	}
	if _, err := st.AccountByNumber(ctx, "10002"); !errors.Is(err, ErrNotFound) {
		t.Errorf("AccountByNumber(unknown) = %v", err)
	}
}

func TestNewAccountHidesPIN(t *testing.T) {
	a := demo()
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("adding", "account", a)
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%+v", a), b.String()} {
		if strings.Contains(s, a.PIN) {
			t.Errorf("PIN in %q", s)
		}
	}
}

func TestSeedDemo(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	if seeded, err := SeedDemo(ctx, st); err != nil || !seeded {
		t.Fatalf("SeedDemo = %v, %v", seeded, err)
	}
	if seeded, err := SeedDemo(ctx, st); err != nil || seeded {
		t.Fatalf("second SeedDemo = %v, %v", seeded, err)
	}
	as, err := st.ListAccounts(ctx)
	if err != nil || len(as) != 3 {
		t.Fatalf("ListAccounts = %d, %v", len(as), err)
	}
	if len(as[2].Phones) != 0 || as[1].Balance.Minor >= as[0].Balance.Minor {
		t.Errorf("demo set: %+v", as)
	}
	a, err := st.AccountByPhone(ctx, "+15550100")
	if err != nil || a.Number != "10001" || a.Balance.String() != "USD 321.09" || a.NextAmount.String() != "USD 54.10" ||
		a.NextDue.Format(time.DateOnly) != "2026-12-05" || a.CardLast4 != "4242" {
		t.Fatalf("10001 = %+v, %v", a, err)
	}
	for _, d := range DemoAccounts() {
		acc := mustAccount(t, st, d.Number)
		if r, err := st.VerifyPIN(ctx, acc.ID, d.PIN, time.Now(), 3, time.Minute); err != nil || !r.OK {
			t.Errorf("demo %s PIN: %+v, %v", d.Number, r, err)
		}
	}
}
