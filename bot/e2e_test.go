package bot_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/bot"
	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/server"
	"github.com/supportline/ivr/softphone"
	"github.com/supportline/ivr/store"
)

// TestMain lets the end-to-end calls, which mostly wait on audio, run side
// by side beyond GOMAXPROCS, unless -test.parallel was given.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "10")
	}
	os.Exit(m.Run())
}

// botFlow runs a bot as the server's flow: server.Call satisfies bot.Call.
type botFlow struct{ b *bot.Bot }

func (f botFlow) Run(ctx context.Context, c server.Call) error { return f.b.Run(ctx, c) }

// line is a running support line: the real server, store and prompts, a
// recognizer when asked for, and the bot as every call's flow.
type line struct {
	srv  *server.Server
	st   *store.SQLite
	mu   sync.Mutex
	bots map[string]string // Call-ID of the last call from each number
	rtp  int               // softphone RTP range start
}

// startLine runs a line on loopback until the test ends. rtp picks
// distinct port ranges so that tests in other packages don't collide.
func startLine(t *testing.T, rec asr.Recognizer, rtp int) *line {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	st, err := store.Open(ctx, t.TempDir(), store.WithPINHashCost(64, 1), store.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := prompts.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	l := &line{st: st, bots: map[string]string{}, rtp: rtp + 1000}
	cfg := server.Defaults()
	cfg.SIPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RTPLow, cfg.RTPHigh = rtp, rtp+998
	cfg.DataDir = t.TempDir()
	cfg.Log = quiet
	payGrammar := ""
	opts := []server.Option{server.WithFlow(func(info server.CallInfo) server.Flow {
		b := bot.New(bot.Config{Store: st, Prompts: cat, Caller: info.From, To: info.To, CallID: info.ID,
			NoInput: 1500 * time.Millisecond, InterDigit: 1500 * time.Millisecond, LockFor: time.Hour,
			PayGrammar: payGrammar, SaveRecord: true})
		l.mu.Lock()
		l.bots[info.From] = info.ID
		l.mu.Unlock()
		return botFlow{b}
	})}
	if rec != nil {
		payGrammar = bot.GrammarPayChoice
		opts = append(opts, server.WithRecognizer(rec, asr.StreamConfig{}))
	}
	srv, err := server.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	l.srv = srv
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server Run: %v", err)
		}
	})
	return l
}

// addAccount adds a USD account like the demo's 10001: balance 321.09,
// next 54.10 due December 5th, card 4242, PIN 2468.
func (l *line) addAccount(t *testing.T, number, phone string) *store.Account {
	t.Helper()
	var phones []string
	if phone != "" {
		phones = []string{phone}
	}
	a, err := l.st.AddAccount(context.Background(), store.NewAccount{Number: number, Phones: phones, PIN: "2468",
		Balance: store.Money{Minor: 32109, Currency: "USD"}, NextAmount: store.Money{Minor: 5410, Currency: "USD"},
		NextDue: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), CardLast4: "4242"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// call dials the line from number with a script and returns the softphone's
// result and the call record as stored.
func (l *line) call(t *testing.T, from, script string) (*softphone.Result, *store.CallRecord) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script.txt")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := softphone.ParseScript(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	res, err := softphone.Dial(ctx, softphone.Config{Target: "sip:ivr@" + l.srv.SIPAddr().String(), From: from,
		RTPLow: l.rtp, RTPHigh: l.rtp + 998}, sc, nil)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	t.Logf("call took %v, hangup by %s, turns %+v", time.Since(start).Round(10*time.Millisecond), res.HangupBy, res.Turns)
	return res, l.record(t, from)
}

// record waits for the bot of the last call from a number to store its
// record (it does as the call ends).
func (l *line) record(t *testing.T, from string) *store.CallRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		id := l.bots[from]
		l.mu.Unlock()
		if rec, err := l.st.Call(context.Background(), id); err == nil && !rec.End.IsZero() {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatal("no call record stored")
		}
		<-time.After(50 * time.Millisecond) // bounded poll: the record is written as the call ends
	}
}

// said is the transcript's text of who, one turn a line.
func said(rec *store.CallRecord, who string) string {
	var b strings.Builder
	for _, tu := range rec.Transcript {
		if tu.Who == who {
			b.WriteString(tu.Text + "\n")
		}
	}
	return b.String()
}

func wantSaid(t *testing.T, rec *store.CallRecord, phrases ...string) {
	t.Helper()
	text := said(rec, bot.WhoBot)
	for _, p := range phrases {
		if !strings.Contains(text, p) {
			t.Errorf("the bot did not say %q; it said:\n%s", p, text)
		}
	}
}

// digitWords is a confirmation code as the bot must read it: every one of
// its 8 characters a digit, as words ("four zero seven ...").
func digitWords(t *testing.T, code string) string {
	t.Helper()
	names := [10]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	if len(code) != 8 {
		t.Fatalf("confirmation %q: want 8 digits", code)
	}
	words := make([]string, 0, len(code))
	for _, c := range code {
		if c < '0' || c > '9' {
			t.Fatalf("confirmation %q has %q, which the bot cannot say", code, c)
		}
		words = append(words, names[c-'0'])
	}
	return strings.Join(words, " ")
}

func payments(t *testing.T, l *line, acct *store.Account) []store.Payment {
	t.Helper()
	ps, err := l.st.Payments(context.Background(), acct.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func balance(t *testing.T, l *line, number string) int64 {
	t.Helper()
	a, err := l.st.AccountByNumber(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance.Minor
}

// TestKeypadCalls drives the bot with the real softphone over SIP and RTP
// (RFC 4733 keys), the real SQLite store and the real prompts. Keys are
// typed ahead, barging into the prompts, as callers who know the line do.
func TestKeypadCalls(t *testing.T) {
	l := startLine(t, nil, 36000)

	t.Run("balance", func(t *testing.T) {
		t.Parallel()
		l.addAccount(t, "30001", "+15553001")
		res, rec := l.call(t, "+15553001", "dtmf 2468#1\nwait-silence 30\ndtmf 0\nwait-silence 20\n")
		if res.HangupBy != "remote" || rec.Outcome != bot.OutcomeHandover || rec.Handover == nil ||
			rec.Handover.Reason != store.HandoverAsked || !rec.Verified || rec.AccountNumber != "30001" {
			t.Errorf("hangup by %s, record %+v", res.HangupBy, rec)
		}
		wantSaid(t, rec, "Your balance is three hundred twenty one dollars and nine cents", "Please hold while I transfer you")
		if got := strings.Join(rec.DTMF, ","); got != "****#,1,0" {
			t.Errorf("DTMF %q, want the PIN masked", got)
		}
		if !slices.Contains(rec.Intents, "balance") || !slices.Contains(rec.Intents, "agent") {
			t.Errorf("intents %v", rec.Intents)
		}
	})

	t.Run("next payment", func(t *testing.T) {
		t.Parallel()
		l.addAccount(t, "30002", "+15553002")
		_, rec := l.call(t, "+15553002", "dtmf 2468#2\nwait-silence 30\nhangup\n")
		wantSaid(t, rec, "Your next payment of fifty four dollars and ten cents is due on December fifth")
		if rec.Outcome != bot.OutcomeCallerHangup {
			t.Errorf("outcome %q", rec.Outcome)
		}
	})

	t.Run("payment confirmed", func(t *testing.T) {
		t.Parallel()
		acct := l.addAccount(t, "30003", "+15553003")
		_, rec := l.call(t, "+15553003", "dtmf 2468#311\nwait-silence 30\nhangup\n")
		ps := payments(t, l, acct)
		if len(ps) != 1 || ps[0].Amount.Minor != 5410 || ps[0].CardLast4 != "4242" || balance(t, l, "30003") != 32109-5410 {
			t.Fatalf("payments %+v", ps)
		}
		if !slices.Equal(rec.Payments, []int64{ps[0].ID}) {
			t.Errorf("record payments %v, want [%d]", rec.Payments, ps[0].ID)
		}
		wantSaid(t, rec, "You'd like to pay fifty four dollars and ten cents using your card ending in four two four two",
			"Your payment was successful. Your confirmation number is "+digitWords(t, ps[0].Confirmation))
	})

	t.Run("payment declined", func(t *testing.T) {
		t.Parallel()
		acct := l.addAccount(t, "30004", "+15553004")
		_, rec := l.call(t, "+15553004", "dtmf 2468#312\nwait-silence 30\nhangup\n")
		if ps := payments(t, l, acct); len(ps) != 0 || len(rec.Payments) != 0 {
			t.Errorf("payments %+v / %v after a no", ps, rec.Payments)
		}
		wantSaid(t, rec, "I've cancelled that payment")
	})

	t.Run("repeated payment is one payment", func(t *testing.T) {
		t.Parallel()
		acct := l.addAccount(t, "30005", "+15553005")
		_, rec := l.call(t, "+15553005", "dtmf 2468#33\nwait-silence 30\ndtmf 20#1\nwait-silence 30\n"+
			"dtmf 33\nwait-silence 30\ndtmf 20#1\nwait-silence 30\nhangup\n")
		ps := payments(t, l, acct)
		if len(ps) != 1 || ps[0].Amount.Minor != 2000 || balance(t, l, "30005") != 32109-2000 {
			t.Errorf("payments %+v, balance %d: want one of 20.00", ps, balance(t, l, "30005"))
		}
		if n := strings.Count(said(rec, bot.WhoBot), "Your payment was successful"); n != 2 || len(rec.Payments) != 1 {
			t.Errorf("success said %d times, record payments %v", n, rec.Payments)
		}
	})

	t.Run("wrong PIN lockout", func(t *testing.T) {
		t.Parallel()
		l.addAccount(t, "30006", "+15553006")
		res, rec := l.call(t, "+15553006", "dtmf 1111#2222#3333#\nwait-silence 30\n")
		a, err := l.st.AccountByNumber(context.Background(), "30006")
		if err != nil || !a.Locked(time.Now()) {
			t.Errorf("account %+v not locked (%v)", a, err)
		}
		if res.HangupBy != "remote" || rec.Verified || rec.Handover == nil || rec.Handover.Reason != store.HandoverBotFailed {
			t.Errorf("record %+v", rec)
		}
		wantSaid(t, rec, "your account has been locked", "Please hold while I transfer you")
		// The record's JSON, its numbers (times, offsets in nanoseconds, which
		// may hold "1111") left out: they are no caller input.
		doc, _ := json.Marshal(rec)
		var texts strings.Builder
		for _, tu := range rec.Transcript {
			texts.WriteString(tu.Text + "\n")
		}
		words := texts.String() + strings.Join(rec.DTMF, ",") + strings.Join(rec.Intents, ",")
		if rec.Handover != nil {
			words += rec.Handover.Detail
		}
		for _, leak := range []string{"1111", "2222", "3333", "three hundred", "balance is"} {
			if strings.Contains(words, leak) {
				t.Errorf("record holds %q: %s", leak, doc)
			}
		}
		// Locked for the next call too: no PIN is asked.
		_, rec = l.call(t, "+15553006", "wait-silence 40\n")
		if rec.Verified || strings.Contains(said(rec, bot.WhoBot), "PIN") {
			t.Errorf("locked account asked for the PIN: %+v", rec)
		}
		wantSaid(t, rec, "your account has been locked", "Please hold while I transfer you")
	})

	t.Run("unknown caller by account number", func(t *testing.T) {
		t.Parallel()
		l.addAccount(t, "30007", "")
		_, rec := l.call(t, "+15559999", "dtmf 30007#2468#1\nwait-silence 30\nhangup\n")
		if rec.AccountNumber != "30007" || !rec.Verified || strings.Join(rec.DTMF, ",") != "30007#,****#,1" {
			t.Errorf("record %+v", rec)
		}
		wantSaid(t, rec, "Please enter or say your account number", "Your balance is three hundred")
	})

	t.Run("no input", func(t *testing.T) {
		t.Parallel()
		l.addAccount(t, "30008", "+15553008")
		res, rec := l.call(t, "+15553008", "wait-silence 60\nwait-silence 60\nwait-silence 60\nwait-silence 60\n")
		if res.HangupBy != "remote" || rec.Handover == nil || rec.Handover.Detail != "pin: no_input" {
			t.Errorf("record %+v", rec)
		}
		wantSaid(t, rec, "Sorry, I didn't hear anything", "Let's use your keypad instead", "Let me get you to a person")
	})
}

// espeak writes text as speech to a WAV file in dir.
func espeak(t *testing.T, dir, name, text string) string {
	t.Helper()
	out := filepath.Join(dir, name+".wav")
	if b, err := exec.Command("espeak-ng", "-w", out, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng (make deps installs it): %v: %s", err, b)
	}
	return out
}

// TestSpeechCalls speaks to the bot: espeak-ng phrases through the
// softphone, recognised by PocketSphinx in the server. The calls run one
// after the other: recognition is CPU-bound (and slow under -race).
func TestSpeechCalls(t *testing.T) {
	rec, err := asr.NewSphinx(asr.SphinxConfig{Decoders: 2, Grammars: append(asr.DefaultGrammars(), bot.Grammars()...),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("PocketSphinx (make deps installs it): %v", err)
	}
	t.Cleanup(func() { rec.Close() })
	l := startLine(t, rec, 38000)
	dir := t.TempDir()
	balanceWAV := espeak(t, dir, "balance", "what is my balance")
	// Committed corpus clips for the payment ("make a payment", "yes please").
	payWAV, _ := filepath.Abs("../testdata/corpus-ci/clips/main-make_payment-0014.wav")
	yesWAV, _ := filepath.Abs("../testdata/corpus-ci/clips/confirm-yes-0044.wav")

	t.Run("balance", func(t *testing.T) {
		l.addAccount(t, "40001", "+15554001")
		res, cr := l.call(t, "+15554001", "dtmf 2468#\nwait 1.5\nplay "+balanceWAV+"\nwait-silence 30\nhangup\n")
		wantSaid(t, cr, "Your balance is three hundred twenty one dollars and nine cents")
		if !hasSpoken(cr, "balance") {
			t.Errorf("no spoken balance turn: %+v", cr.Transcript)
		}
		for _, tu := range res.Turns {
			if tu.After == "play" {
				t.Logf("end of speech → first bot audio: %.0f ms", tu.ResponseMs)
				if tu.ResponseMs > 1500 {
					t.Errorf("answer after %.0f ms", tu.ResponseMs)
				}
			}
		}
	})

	t.Run("payment by voice", func(t *testing.T) {
		acct := l.addAccount(t, "40002", "+15554002")
		_, cr := l.call(t, "+15554002", "dtmf 2468#\nwait 1.5\nplay "+payWAV+"\nwait 1\ndtmf 1\nwait 1.5\nplay "+yesWAV+
			"\nwait-silence 30\nhangup\n")
		if ps := payments(t, l, acct); len(ps) != 1 || ps[0].Amount.Minor != 5410 {
			t.Errorf("payments %+v, transcript %+v", ps, cr.Transcript)
		}
		for _, intent := range []string{"make_payment", "yes"} {
			if !hasSpoken(cr, intent) {
				t.Errorf("no spoken %s turn: %+v", intent, cr.Transcript)
			}
		}
	})
}

func hasSpoken(rec *store.CallRecord, intent string) bool {
	for _, tu := range rec.Transcript {
		if tu.Who == bot.WhoCaller && tu.Input == bot.InputSpeech && tu.Intent == intent && tu.Confidence > 0 {
			return true
		}
	}
	return false
}
