package bot

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/prompts"
)

// Defaults of Config.
const (
	DefaultNoInput      = 6 * time.Second
	DefaultInterDigit   = 3 * time.Second
	DefaultMaxPINFails  = 3
	DefaultLockFor      = 30 * time.Minute
	DefaultStoreTimeout = 5 * time.Second
	// DefaultMaxAccountTries is how many account numbers an unknown caller
	// may try before being handed to a person.
	DefaultMaxAccountTries = 3
)

// Config is one call's bot configuration. Zero durations and counts take
// the defaults above.
type Config struct {
	Store   Store
	Prompts *prompts.Catalog
	// Caller is the caller's number (From), for the caller-ID lookup; To is
	// the number dialled.
	Caller, To string
	// CallID identifies the call (SIP Call-ID): the call record's ID and
	// part of every payment's idempotency key.
	CallID string
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	// NoInput is how long a step waits for the first key or words after
	// its prompt; InterDigit how long between the keys of an entry.
	NoInput, InterDigit time.Duration
	// MaxPINFails wrong PINs in a row lock the account for LockFor.
	MaxPINFails int
	LockFor     time.Duration
	// MaxAccountTries bounds the account numbers an unknown caller may try.
	MaxAccountTries int
	// StoreTimeout bounds each store operation; payments and the call
	// record are written under it even after the caller hangs up.
	StoreTimeout time.Duration
	// PayGrammar is the grammar of the payment choice step. Set it to
	// GrammarPayChoice when the recognizer was built with Grammars();
	// default asr.GrammarAmount (the caller can say an amount; next
	// installment and full balance are on the keypad).
	PayGrammar string
	// SaveRecord stores the call record with Store.SaveCall when Run ends.
	SaveRecord bool
	// Frustration weighs the signals of a frustrated caller and sets the
	// score at which the call goes to a person (frustration.go).
	Frustration FrustrationConfig

	// Log is the call's logger (the call's own Log when nil).
	Log *slog.Logger
}

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Store == nil || c.Prompts == nil {
		return c, fmt.Errorf("%w: Store and Prompts are required", ErrConfig)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.NoInput = orDefault(c.NoInput, DefaultNoInput)
	c.InterDigit = orDefault(c.InterDigit, DefaultInterDigit)
	c.LockFor = orDefault(c.LockFor, DefaultLockFor)
	c.StoreTimeout = orDefault(c.StoreTimeout, DefaultStoreTimeout)
	if c.MaxPINFails <= 0 {
		c.MaxPINFails = DefaultMaxPINFails
	}
	if c.MaxAccountTries <= 0 {
		c.MaxAccountTries = DefaultMaxAccountTries
	}
	c.Frustration = c.Frustration.withDefaults()
	if c.PayGrammar == "" {
		c.PayGrammar = asr.GrammarAmount
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
