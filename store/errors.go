package store

import "errors"

// Sentinel errors. Every error a Store returns wraps one of these (or a
// context or driver error) with what was being done, so callers test with
// errors.Is.
var (
	// ErrNotFound is returned when no account, payment or call record matches.
	ErrNotFound = errors.New("not found")
	// ErrInvalid is returned for input that fails validation (a malformed PIN,
	// phone number, account number, card last four or amount).
	ErrInvalid = errors.New("invalid input")
	// ErrDuplicate is returned by AddAccount when the account number or one of
	// the phone numbers already belongs to an account.
	ErrDuplicate = errors.New("already exists")
	// ErrBadAmount is returned for a payment amount of zero or less.
	ErrBadAmount = errors.New("payment amount must be above zero")
	// ErrExceedsBalance is returned for a payment above the account balance.
	ErrExceedsBalance = errors.New("payment amount exceeds the balance")
	// ErrCurrencyMismatch is returned for a payment in another currency than
	// the account's.
	ErrCurrencyMismatch = errors.New("payment currency differs from the account's")
	// ErrCardMismatch is returned for a payment naming a card that is not the
	// card on file.
	ErrCardMismatch = errors.New("card is not the card on file")
	// ErrAccountLocked is returned for a payment on an account locked after
	// too many wrong PINs.
	ErrAccountLocked = errors.New("account is locked")
	// ErrIdempotencyConflict is returned when an idempotency key is reused for
	// a different payment (another account, amount, currency or card).
	ErrIdempotencyConflict = errors.New("idempotency key already used for a different payment")
	// ErrPaymentNotMade wraps every failure of MakePayment after validation:
	// the transaction was rolled back, no money moved and the balance is
	// unchanged. Retrying with the same idempotency key is always safe.
	ErrPaymentNotMade = errors.New("payment not made, nothing changed")
	// ErrMigration is returned by Open when a schema migration fails; the
	// message names the version.
	ErrMigration = errors.New("schema migration failed")
	// ErrSchemaTooNew is returned by Open when the database was migrated by a
	// newer build than this one.
	ErrSchemaTooNew = errors.New("database schema is newer than this build")
)
