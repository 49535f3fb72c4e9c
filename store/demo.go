package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SeedDemo adds the demo accounts when the store has no accounts at all, and
// reports whether it did. The demo accounts (all USD):
//
//	account  phone      PIN   balance  next    due         card
//	10001    +15550100  2468  321.09   54.10   2026-12-05  4242   caller ID known
//	10002    +15550101  1357   12.50   12.50   2026-11-20  1881   small balance: a larger payment is refused
//	10003    (none)     8642  980.00  122.50   2027-01-15  0005   no phone: identified by account number
func SeedDemo(ctx context.Context, st Admin) (bool, error) {
	have, err := st.ListAccounts(ctx)
	if err != nil {
		return false, fmt.Errorf("store: seed demo: %w", err)
	}
	if len(have) > 0 {
		return false, nil
	}
	for _, a := range DemoAccounts() {
		if _, err := st.AddAccount(ctx, a); errors.Is(err, ErrDuplicate) {
			return false, nil // another process is seeding at the same time
		} else if err != nil {
			return false, fmt.Errorf("store: seed demo: %w", err)
		}
	}
	return true, nil
}

// DemoAccounts returns the accounts SeedDemo adds (with their PINs).
func DemoAccounts() []NewAccount {
	usd := func(minor int64) Money { return Money{Minor: minor, Currency: "USD"} }
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	return []NewAccount{
		{Number: "10001", Phones: []string{"+15550100"}, PIN: "2468", Balance: usd(32109), NextAmount: usd(5410),
			NextDue: date(2026, time.December, 5), CardLast4: "4242"},
		{Number: "10002", Phones: []string{"+15550101"}, PIN: "1357", Balance: usd(1250), NextAmount: usd(1250),
			NextDue: date(2026, time.November, 20), CardLast4: "1881"},
		{Number: "10003", PIN: "8642", Balance: usd(98000), NextAmount: usd(12250),
			NextDue: date(2027, time.January, 15), CardLast4: "0005"},
	}
}
