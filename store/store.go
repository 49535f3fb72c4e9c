// Package store keeps accounts, payments and call records.
//
// The default Store is SQLite: one file, <data-dir>/ivr.db, in WAL mode with
// a busy timeout, so that `ivr accounts` and `ivr calls` can read and write
// while `ivr serve` has the same file open. Every write that touches more
// than one row is one transaction begun IMMEDIATE (it takes the write lock
// first), so concurrent writers from several processes queue on the busy
// timeout instead of failing on a lock upgrade.
//
// Money is integer minor units with a currency. PINs are stored only as
// salted argon2id hashes and never leave the package; Account has no PIN
// field.
package store

import (
	"context"
	"time"
)

// Accounts finds accounts for the dialog.
type Accounts interface {
	// AccountByPhone returns the account that has phone (caller ID) among
	// its phones, or ErrNotFound.
	AccountByPhone(ctx context.Context, phone string) (*Account, error)
	// AccountByNumber returns the account with the given account number, or
	// ErrNotFound.
	AccountByNumber(ctx context.Context, number string) (*Account, error)
}

// PINVerifier checks PINs and keeps the lockout count.
type PINVerifier interface {
	VerifyPIN(ctx context.Context, accountID int64, pin string, now time.Time, maxFails int, lockFor time.Duration) (PINResult, error)
}

// Payments makes and reads payments.
type Payments interface {
	MakePayment(ctx context.Context, req PaymentRequest) (*Payment, error)
	LastPayment(ctx context.Context, accountID int64) (*Payment, error)
	Payments(ctx context.Context, accountID int64, limit int) ([]Payment, error)
}

// Calls keeps call records.
type Calls interface {
	SaveCall(ctx context.Context, rec *CallRecord) error
	Call(ctx context.Context, id string) (*CallRecord, error)
	Calls(ctx context.Context, limit int) ([]CallRecord, error)
}

// Admin adds, lists and unlocks accounts (the `ivr accounts` command).
type Admin interface {
	AddAccount(ctx context.Context, a NewAccount) (*Account, error)
	ListAccounts(ctx context.Context) ([]Account, error)
	Unlock(ctx context.Context, number string) error
}

// Store is everything the IVR keeps. Consumers should ask for the smallest
// of the interfaces above that they need.
type Store interface {
	Accounts
	PINVerifier
	Payments
	Calls
	Admin
	Close() error
}

var _ Store = (*SQLite)(nil)
