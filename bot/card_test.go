package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportline/ivr/bridge"
)

func TestValidCardNumber(t *testing.T) {
	tests := []struct {
		n  string
		ok bool
	}{
		{"4111111111111111", true},
		{"4242424242424242", true},
		{"378282246310005", true},       // 15 digits (Amex test number)
		{"6011111111111117", true},      // Discover test number
		{"4111111111111112", false},     // check digit
		{"411111111111", false},         // 12 digits
		{"41111111111111111111", false}, // 20 digits
		{"41111111111111a1", false},
		{"", false},
	}
	for _, tc := range tests {
		err := ValidCardNumber(tc.n)
		if (err == nil) != tc.ok {
			t.Errorf("ValidCardNumber(%q) = %v, want ok %v", tc.n, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, ErrCardNumber) || len(tc.n) >= 4 && strings.Contains(err.Error(), tc.n)) {
			t.Errorf("error %q: want ErrCardNumber and no digits of the number", err)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in          string
		month, year int
		ok          bool
	}{
		{"1230", 12, 2030, true},
		{"1126", 11, 2026, true}, // this month: valid to its end
		{"1026", 0, 0, false},    // last month
		{"0099", 0, 0, false},
		{"1399", 0, 0, false},
		{"123", 0, 0, false},
		{"12a0", 0, 0, false},
	}
	for _, tc := range tests {
		m, y, err := ParseExpiry(tc.in, now)
		if (err == nil) != tc.ok || m != tc.month || y != tc.year {
			t.Errorf("ParseExpiry(%q) = %d %d %v", tc.in, m, y, err)
		}
		if err != nil && (!errors.Is(err, ErrCardExpiry) || strings.Contains(err.Error(), tc.in)) {
			t.Errorf("error %q", err)
		}
	}
	for in, ok := range map[string]bool{"737": true, "1234": true, "12": false, "12345": false, "7a7": false} {
		if err := ValidCVV(in); (err == nil) != ok {
			t.Errorf("ValidCVV(%q) = %v", in, err)
		}
	}
}

// sensitiveCall is a fakeCall that records its sensitive windows and which
// prompts were played inside one.
type sensitiveCall struct {
	*fakeCall
	mu       sync.Mutex
	open     int
	opened   int
	inWindow map[string]bool
	hangUpAt string // a prompt at which the caller hangs up
	cancel   context.CancelFunc
}

func (s *sensitiveCall) Sensitive() func() {
	s.mu.Lock()
	s.open++
	s.opened++
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.open--
			s.mu.Unlock()
		})
	}
}

func (s *sensitiveCall) Play(ctx context.Context, names ...string) (bool, error) {
	s.mu.Lock()
	for _, n := range names {
		s.inWindow[n] = s.open > 0
		if n == s.hangUpAt && s.cancel != nil {
			s.cancel()
		}
	}
	s.mu.Unlock()
	return s.fakeCall.Play(ctx, names...)
}

// cardDigits are strings of the test card entry that must appear nowhere.
var cardDigits = []string{"4111111111111111", "411111111111", "4111", "411111", "1230", "737", "2468"}

// TestPayWithKeyedCard: the caller keys a different card (a bad number and
// an expired date first); the payment is made with its last four; the
// card's keys are masked in the record and the logs; every card step and
// the PIN ran inside a sensitive window, and all windows were closed.
func TestPayWithKeyedCard(t *testing.T) {
	st := newMemStore()
	call := &sensitiveCall{fakeCall: newFakeCall(false, keys("2468#"), keys("3"), keys("1"), keys("3"),
		keys("4111111111111112#"), keys("4111111111111111#"), keys("1025"), keys("1230"), keys("737#"),
		keys("1"), keys("0")), inWindow: map[string]bool{}}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	b := runBotOn(t, st, call, func(c *Config) { c.Log = log })
	if len(st.payments) != 1 {
		t.Fatalf("%d payments; heard %v\n%s", len(st.payments), call.heard(), logs.String())
	}
	p := st.payments[0]
	if p.CardLast4 != "1111" || p.IdempotencyKey != IdempotencyKey("call-1@test", 1, p.Amount, "1111") {
		t.Errorf("payment %+v", p)
	}
	heard := call.heard()
	if !subsequence(heard, []string{"pay_card_other_dtmf", "card_number_ask", "card_number_invalid", "card_expiry_ask",
		"card_expiry_invalid", "card_cvv_ask", "pay_card_ending", "num_1", "num_1", "num_1", "num_1", "pay_success"}) {
		t.Errorf("heard %v", heard)
	}
	for _, n := range []string{"welcome", "id_caller_found", "id_pin_ask", "card_number_ask", "card_number_invalid", "card_expiry_ask", "card_cvv_ask"} {
		if !call.inWindow[n] {
			t.Errorf("%s played outside a sensitive window", n)
		}
	}
	for _, n := range []string{"id_verified", "pay_confirm_you_want", "pay_success"} {
		if call.inWindow[n] {
			t.Errorf("%s played inside a sensitive window", n)
		}
	}
	if call.open != 0 || call.opened < 2 {
		t.Errorf("windows: %d opened, %d still open", call.opened, call.open)
	}
	rec := b.Record()
	if rec.Handover == nil {
		t.Fatal("the call did not end with a handover (key 0)")
	}
	card, err := bridge.NewHandoffCard(context.Background(), nil, rec) // what the agent sees
	if err != nil {
		t.Fatal(err)
	}
	cardJSON, _ := json.Marshal(card)
	var all strings.Builder
	all.Write(cardJSON)
	all.WriteString(logs.String())
	all.WriteString(strings.Join(rec.DTMF, " "))
	for _, tu := range rec.Transcript {
		all.WriteString(tu.Text + "\n")
	}
	for _, d := range cardDigits {
		if strings.Contains(all.String(), d) {
			t.Errorf("%q found in the record or logs:\n%s", d, all.String())
		}
	}
	if !strings.Contains(strings.Join(rec.DTMF, " "), "****************#") {
		t.Errorf("card number not masked in the keys: %v", rec.DTMF)
	}
}

// TestSensitiveClosedOnHangUp: the caller hangs up while keying the card;
// the window is closed when Run returns.
func TestSensitiveClosedOnHangUp(t *testing.T) {
	for _, at := range []string{"card_number_ask", "card_cvv_ask", "id_pin_ask"} {
		t.Run(at, func(t *testing.T) {
			st := newMemStore()
			call := &sensitiveCall{fakeCall: newFakeCall(false, keys("2468#"), keys("3"), keys("1"), keys("3"),
				keys("4111111111111111#"), keys("1230")), inWindow: map[string]bool{}, hangUpAt: at}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			call.cancel = cancel
			b := New(testConfig(t, st, nil))
			if err := b.Run(ctx, call); !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v, want the hang-up", err)
			}
			if call.open != 0 || call.opened == 0 || !call.inWindow[at] {
				t.Errorf("windows: %d opened, %d still open, at %s: %v", call.opened, call.open, at, call.inWindow[at])
			}
		})
	}
}

// testConfig is runBot's configuration for the demo caller.
func testConfig(t *testing.T, st *memStore, mod func(*Config)) Config {
	t.Helper()
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	cfg := Config{Store: st, Prompts: testCatalog(t), Caller: "15550100", CallID: "call-1@test",
		Now: func() time.Time { return now }, NoInput: 30 * time.Millisecond, InterDigit: 30 * time.Millisecond,
		SaveRecord: true, Log: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

// runBotOn is runBot for any Call.
func runBotOn(t *testing.T, st *memStore, call Call, mod func(*Config)) *Bot {
	t.Helper()
	b := New(testConfig(t, st, mod))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Run(ctx, call); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return b
}

// TestSensitiveUnknownCaller: the account number of a caller the line does
// not know is not in a window; the PIN is.
func TestSensitiveUnknownCaller(t *testing.T) {
	st := newMemStore()
	call := &sensitiveCall{fakeCall: newFakeCall(false, keys("10003#"), keys("8642#"), keys("0")), inWindow: map[string]bool{}}
	runBotOn(t, st, call, func(c *Config) { c.Caller = "" })
	if !call.inWindow["welcome"] || call.inWindow["id_account_ask"] || !call.inWindow["id_pin_ask"] || call.inWindow["id_verified"] {
		t.Errorf("windows at %v", call.inWindow)
	}
	if call.open != 0 || call.opened != 2 {
		t.Errorf("windows: %d opened, %d still open", call.opened, call.open)
	}
}
