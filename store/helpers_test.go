package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// cheap is a tiny argon2id cost so tests (under -race too) stay fast.
var cheap = WithPINHashCost(64, 1)

func openDir(t *testing.T, dir string, opts ...Option) *SQLite {
	t.Helper()
	st, err := Open(context.Background(), dir, append([]Option{cheap}, opts...)...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openTemp(t *testing.T, opts ...Option) *SQLite {
	t.Helper()
	return openDir(t, t.TempDir(), opts...)
}

func usd(minor int64) Money { return Money{Minor: minor, Currency: "USD"} }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// demo is account 10001 of the demo set.
func demo() NewAccount { return DemoAccounts()[0] }

func addAccount(t *testing.T, st *SQLite, a NewAccount) *Account {
	t.Helper()
	acc, err := st.AddAccount(context.Background(), a)
	if err != nil {
		t.Fatalf("AddAccount: %v", err)
	}
	return acc
}

func mustAccount(t *testing.T, st *SQLite, number string) *Account {
	t.Helper()
	a, err := st.AccountByNumber(context.Background(), number)
	if err != nil {
		t.Fatalf("AccountByNumber(%s): %v", number, err)
	}
	return a
}

func dbPath(st *SQLite) string { return filepath.Clean(st.Path()) }
