// Package bot is the support line's dialog: a state machine per call that
// identifies the caller (caller ID, else account number) and verifies the
// PIN, then answers balance, next-payment and last-payment questions and
// takes payments, by speech or keypad, and hands the call to a person when
// asked or when it is not getting anywhere. It knows nothing of SIP or RTP:
// it hears keys and recognition results through Call and asks for prompts
// to be played. Every call leaves a record (transcript, intents, masked
// keys, outcome, handover request).
package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/supportline/ivr/store"
)

// Outcomes of a call, as the call record states them.
const (
	OutcomeCompleted    = "completed"     // the caller said goodbye
	OutcomeHandover     = "handover"      // a person was asked for
	OutcomeCallerHangup = "caller_hangup" // the caller hung up in the bot
	OutcomeError        = "error"         // the bot failed
	OutcomeShutdown     = "shutdown"      // the server ended the call (drain time over)
)

// An outcomer is a cancellation cause that names the call's outcome: the
// server's shutdown cause says OutcomeShutdown.
type outcomer interface{ Outcome() string }

// The handover reasons are the store's: store.HandoverAsked when the
// caller asked, store.HandoverBotFailed (with a detail: "locked",
// "unverified", "pin: no_input", "error: ...") when the bot could not go on.

// Bot runs the dialog of one call. Make one per call with New.
type Bot struct {
	cfg    Config
	cfgErr error
	steps  map[stepID]*step
	call   Call
	log    *slog.Logger

	speech bool // the call has speech recognition
	keypad bool // the caller was moved to keypad prompts

	acct         *store.Account
	accountTries int
	again        bool     // the menu was answered once: ask "anything else"
	lastAnswer   []string // the last answer, for "repeat"
	pay          payment  // the payment being set up
	byeFrom      stepID   // the step a goodbye was heard at, while it is confirmed

	frust frustration // the caller's frustration score
	// resume ends the open sensitive window (nil: none open); sensitive.go.
	resume func()
	heard  turnSignals // the turn being heard

	mu  sync.Mutex
	rec store.CallRecord
}

// New makes the bot of one call. A bad Config is reported by Run.
func New(cfg Config) *Bot {
	b := &Bot{steps: stepTable()}
	b.cfg, b.cfgErr = cfg.withDefaults()
	b.frust = frustration{cfg: b.cfg.Frustration}
	b.rec = store.CallRecord{ID: cfg.CallID, From: cfg.Caller, To: cfg.To}
	return b
}

// Run runs the dialog on call until the caller says goodbye, asks for a
// person (Record().Handover says so; the coordinator then bridges the
// call), hangs up, or ctx ends. The call record is complete when Run
// returns. Run returns nil when the dialog ended normally, ctx's error when
// the call went away.
func (b *Bot) Run(ctx context.Context, call Call) error {
	if b.cfgErr != nil {
		return b.cfgErr
	}
	b.call = call
	b.log = b.cfg.Log
	if b.log == nil {
		b.log = call.Log()
	}
	b.mu.Lock()
	b.rec.Start = b.cfg.Now()
	b.mu.Unlock()
	defer b.setSensitive(false) // every way out: hang-up, error, handover
	err := b.loop(ctx)
	b.finish(ctx, err)
	if errors.Is(err, errHandled) {
		return nil
	}
	return err
}

// errHandled ends the loop after a failure the caller was already told of.
var errHandled = errors.New("handled")

// loop walks the step table from the greeting to the end.
func (b *Bot) loop(ctx context.Context) error {
	id := stepGreet
	for id != stepEnd {
		st := b.steps[id]
		b.setSensitive(st.sensitive())
		next, err := st.run(b, ctx)
		if err != nil {
			return err
		}
		b.log.Debug("bot: step", "from", st.name, "to", b.steps[next].name)
		id = next
	}
	return nil
}

// finish closes the call record and stores it.
func (b *Bot) finish(ctx context.Context, err error) {
	b.mu.Lock()
	b.rec.End = b.cfg.Now()
	switch {
	case b.rec.Outcome != "":
	case ctx.Err() != nil:
		b.rec.Outcome = OutcomeCallerHangup
		var o outcomer
		if errors.As(context.Cause(ctx), &o) {
			b.rec.Outcome = o.Outcome()
		}
	case err != nil:
		b.rec.Outcome = OutcomeError
	default:
		b.rec.Outcome = OutcomeCompleted
	}
	rec := b.copyRecordLocked()
	b.mu.Unlock()
	b.log.Info("bot: call done", "outcome", rec.Outcome, "verified", rec.Verified,
		"account", rec.AccountNumber, "payments", len(rec.Payments), "turns", len(rec.Transcript))
	if !b.cfg.SaveRecord {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.StoreTimeout)
	defer cancel()
	if err := b.cfg.Store.SaveCall(sctx, rec); err != nil {
		b.log.Error("bot: saving the call record failed", "error", err)
	}
}

// Record returns a copy of the call record so far (complete once Run has
// returned).
func (b *Bot) Record() *store.CallRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.copyRecordLocked()
}

func (b *Bot) copyRecordLocked() *store.CallRecord {
	r := b.rec
	r.Transcript = append([]store.Turn(nil), b.rec.Transcript...)
	r.Intents = append([]string(nil), b.rec.Intents...)
	r.Payments = append([]int64(nil), b.rec.Payments...)
	if b.rec.Handover != nil {
		h := *b.rec.Handover
		r.Handover = &h
	}
	return &r
}
