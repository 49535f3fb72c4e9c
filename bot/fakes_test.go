package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/store"
)

// turn is one scripted caller turn for fakeCall: keys, or a recognition
// event, or nothing (silence).
type turn struct {
	keys   string
	speech *asr.Event
}

func keys(k string) turn { return turn{keys: k} }
func say(intent, value, text string) turn {
	return turn{speech: &asr.Event{Type: asr.EventFinal, Intent: intent, Value: value, Text: text, Confidence: 0.9}}
}
func noMatch(text string) turn {
	return turn{speech: &asr.Event{Type: asr.EventNoMatch, Text: text, Confidence: 0.2}}
}

var silence = turn{}

// fakeCall is a Call for unit tests of the dialog. It hands the caller's
// next scripted turn over when the bot plays a prompt and nothing is queued:
// the bot always speaks before it listens.
type fakeCall struct {
	mu      sync.Mutex
	turns   []turn
	played  [][]string
	speech  bool
	digits  chan media.DTMF
	results chan asr.Event
	grammar []string
}

func newFakeCall(speech bool, turns ...turn) *fakeCall {
	return &fakeCall{turns: turns, speech: speech, digits: make(chan media.DTMF, 64), results: make(chan asr.Event, 8)}
}

func (f *fakeCall) Play(ctx context.Context, names ...string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.played = append(f.played, append([]string(nil), names...))
	if len(f.digits) > 0 || len(f.results) > 0 || len(f.turns) == 0 {
		return false, ctx.Err()
	}
	t := f.turns[0]
	f.turns = f.turns[1:]
	for i := range len(t.keys) {
		f.digits <- media.DTMF{Digit: t.keys[i], Source: media.DTMFRFC4733, At: time.Now()}
	}
	if t.speech != nil {
		f.results <- *t.speech
	}
	return false, ctx.Err()
}

func (f *fakeCall) Listen(g string) bool {
	f.mu.Lock()
	f.grammar = append(f.grammar, g)
	f.mu.Unlock()
	return f.speech
}
func (f *fakeCall) Digits() <-chan media.DTMF { return f.digits }
func (f *fakeCall) Speech() <-chan asr.Event  { return f.results }
func (f *fakeCall) Log() *slog.Logger         { return slog.New(slog.DiscardHandler) }

// heard is every prompt played, in order.
func (f *fakeCall) heard() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.played {
		out = append(out, p...)
	}
	return out
}

// memStore is an in-memory Store for unit tests of the dialog (the SQLite
// store is tested in its package and end to end).
type memStore struct {
	mu       sync.Mutex
	accounts []*store.Account
	pins     map[int64]string
	payments []*store.Payment
	calls    map[string]*store.CallRecord
	failPay  bool
}

func newMemStore() *memStore {
	usd := func(m int64) store.Money { return store.Money{Minor: m, Currency: "USD"} }
	return &memStore{
		accounts: []*store.Account{
			{ID: 1, Number: "10001", Phones: []string{"+15550100"}, Balance: usd(32109), NextAmount: usd(5410),
				NextDue: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), CardLast4: "4242"},
			{ID: 3, Number: "10003", Balance: usd(98000), NextAmount: usd(12250),
				NextDue: time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC), CardLast4: "0005"},
		},
		pins:  map[int64]string{1: "2468", 3: "8642"},
		calls: map[string]*store.CallRecord{},
	}
}

func (m *memStore) find(ok func(*store.Account) bool) (*store.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.accounts {
		if ok(a) {
			c := *a
			return &c, nil
		}
	}
	return nil, store.ErrNotFound
}

func (m *memStore) AccountByPhone(_ context.Context, phone string) (*store.Account, error) {
	return m.find(func(a *store.Account) bool {
		for _, p := range a.Phones {
			if p == phone || p == "+"+phone {
				return true
			}
		}
		return false
	})
}

func (m *memStore) AccountByNumber(_ context.Context, n string) (*store.Account, error) {
	return m.find(func(a *store.Account) bool { return a.Number == n })
}

func (m *memStore) VerifyPIN(_ context.Context, id int64, pin string, now time.Time, maxFails int, lockFor time.Duration) (store.PINResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.accounts {
		if a.ID != id {
			continue
		}
		if now.Before(a.LockedUntil) {
			return store.PINResult{Locked: true, LockedUntil: a.LockedUntil}, nil
		}
		if m.pins[id] == pin {
			a.FailedPINs = 0
			return store.PINResult{OK: true, FailsLeft: maxFails}, nil
		}
		a.FailedPINs++
		if a.FailedPINs >= maxFails {
			a.FailedPINs, a.LockedUntil = 0, now.Add(lockFor)
			return store.PINResult{Locked: true, LockedUntil: a.LockedUntil}, nil
		}
		return store.PINResult{FailsLeft: maxFails - a.FailedPINs}, nil
	}
	return store.PINResult{}, store.ErrNotFound
}

func (m *memStore) MakePayment(_ context.Context, req store.PaymentRequest) (*store.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPay {
		return nil, errors.New("disk full")
	}
	for _, p := range m.payments {
		if p.IdempotencyKey == req.IdempotencyKey {
			return p, nil
		}
	}
	for _, a := range m.accounts {
		if a.ID == req.AccountID {
			a.Balance.Minor -= req.Amount.Minor
		}
	}
	p := &store.Payment{ID: int64(len(m.payments) + 1), AccountID: req.AccountID, Amount: req.Amount,
		CardLast4: req.CardLast4, Status: store.PaymentCompleted, Confirmation: "40718253",
		IdempotencyKey: req.IdempotencyKey, CreatedAt: req.Now}
	m.payments = append(m.payments, p)
	return p, nil
}

func (m *memStore) LastPayment(_ context.Context, id int64) (*store.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.payments) - 1; i >= 0; i-- {
		if m.payments[i].AccountID == id {
			return m.payments[i], nil
		}
	}
	return nil, store.ErrNotFound
}

func (m *memStore) SaveCall(_ context.Context, rec *store.CallRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[rec.ID] = rec
	return nil
}

var catalog = sync.OnceValues(prompts.Embedded)

func testCatalog(t *testing.T) *prompts.Catalog {
	t.Helper()
	c, err := catalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runBot runs one call of the bot against a fake call and returns it.
func runBot(t *testing.T, st *memStore, caller string, call *fakeCall, mod func(*Config)) *Bot {
	t.Helper()
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	cfg := Config{Store: st, Prompts: testCatalog(t), Caller: caller, CallID: "call-1@test",
		Now: func() time.Time { return now }, NoInput: 30 * time.Millisecond, InterDigit: 30 * time.Millisecond,
		SaveRecord: true, Log: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	b := New(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Run(ctx, call); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return b
}

// joined is the prompts as one space-separated string, for Contains checks.
func joined(names []string) string { return " " + strings.Join(names, " ") + " " }
