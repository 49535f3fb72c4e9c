package bot

import (
	"context"
	"time"

	"github.com/supportline/ivr/store"
)

// Store is the part of the account store the dialog uses.
type Store interface {
	// AccountByPhone finds the account of a caller's number
	// (store.ErrNotFound when there is none).
	AccountByPhone(ctx context.Context, phone string) (*store.Account, error)
	// AccountByNumber finds an account by its number.
	AccountByNumber(ctx context.Context, number string) (*store.Account, error)
	// VerifyPIN checks a PIN, counting failures and locking the account for
	// lockFor after maxFails in a row.
	VerifyPIN(ctx context.Context, id int64, pin string, now time.Time, maxFails int, lockFor time.Duration) (store.PINResult, error)
	// MakePayment takes a payment exactly once per idempotency key: a
	// repeated key returns the first payment.
	MakePayment(ctx context.Context, req store.PaymentRequest) (*store.Payment, error)
	// LastPayment is the account's newest payment (store.ErrNotFound when
	// it has none).
	LastPayment(ctx context.Context, accountID int64) (*store.Payment, error)
	// SaveCall stores a call record (insert or replace by ID).
	SaveCall(ctx context.Context, rec *store.CallRecord) error
}
