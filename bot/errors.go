package bot

import "errors"

// Sentinel errors of the dialog.
var (
	// ErrConfig: the bot's Config is incomplete.
	ErrConfig = errors.New("bot: bad config")
	// ErrAmountZero: a payment amount of zero or less.
	ErrAmountZero = errors.New("amount must be more than zero")
	// ErrAmountOverBalance: a payment amount above the balance.
	ErrAmountOverBalance = errors.New("amount is more than the balance")
	// ErrAmountFormat: an amount that is not dollars and at most two
	// decimals of cents.
	ErrAmountFormat = errors.New("not an amount")
	// ErrScript: a scripted-call corpus (calls.tsv and its clips) that
	// cannot be read.
	ErrScript = errors.New("bot: bad call script")
)
