package bot

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/store"
)

// TestStepTable checks the table's rows: every step is named, every input
// step has a handler and a known grammar, and every prompt it can say is
// in the catalog (dynamic prompts built for a sample account).
func TestStepTable(t *testing.T) {
	cat := testCatalog(t)
	grammars := map[string]bool{grammarPay: true}
	for _, g := range append(asr.DefaultGrammars(), Grammars()...) {
		grammars[g.Name] = true
	}
	b := New(Config{Store: newMemStore(), Prompts: cat})
	b.acct, _ = newMemStore().AccountByNumber(t.Context(), "10001")
	b.pay.amount = store.Money{Minor: 5410, Currency: "USD"}
	for id := stepGreet; id <= stepEnd; id++ {
		st := b.steps[id]
		if st == nil || st.name != id.String() || strings.HasPrefix(st.name, "stepID") {
			t.Fatalf("step %d missing or unnamed: %+v", id, st)
		}
		if st.act != nil || id == stepEnd {
			continue
		}
		if st.handle == nil || !grammars[st.grammar] {
			t.Errorf("%s: handler %v, grammar %q", st.name, st.handle != nil, st.grammar)
		}
		names := slices.Concat(st.prompt, st.keyPrompt, st.help)
		if st.dynamic != nil {
			b.again = true
			names = append(names, st.dynamic(b)...)
		}
		if len(names) == 0 {
			t.Errorf("%s: says nothing", st.name)
		}
		if _, err := cat.Clips(names...); err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
		for k, intent := range st.keys {
			if k == '0' || k == '#' {
				t.Errorf("%s: key %c is reserved (0: agent, #: end of entry)", st.name, k)
			}
			if intent != IntentMainMenu && !st.accepts(intent) {
				t.Errorf("%s: key %c gives %q, which the step does not take", st.name, k, intent)
			}
		}
	}
	for _, p := range []string{"no_input", "no_match", "invalid_key", "keypad_fallback", "asr_unavailable", "transferring",
		"handoff_frustration", "technical_error", "pay_failed", "pay_success", "status_received", "goodbye"} {
		if _, err := cat.Get(p); err != nil {
			t.Error(err)
		}
	}
}

// TestMenuAnnouncesKeys: the menu's keypad prompt names every key the menu
// takes ('*' aside: it brings callers back to this menu) and '0' for an agent.
func TestMenuAnnouncesKeys(t *testing.T) {
	cat := testCatalog(t)
	st := stepTable()[stepMenu]
	var text string
	for _, p := range st.keyPrompt {
		text += cat.Text([]string{p}) + " "
	}
	words := map[byte]string{'0': "zero", '1': "one", '2': "two", '3': "three", '4': "four", '5': "five",
		'6': "six", '7': "seven", '8': "eight", '9': "nine"}
	keys := []byte{'0'}
	for k := range st.keys {
		if k != '*' {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if !strings.Contains(text, "press "+words[k]+".") {
			t.Errorf("menu key %c (%s) not announced in %q", k, st.keys[k], text)
		}
	}
	if n := strings.Count(text, "press "); n != len(keys) {
		t.Errorf("menu announces %d keys, takes %d: %q", n, len(keys), text)
	}
}

// TestAgentEverywhere: every grammar a step listens with has words for a
// person, so that "agent" hands the call over at any step.
func TestAgentEverywhere(t *testing.T) {
	grammars := map[string]*asr.Grammar{grammarPay: PayChoiceGrammar()}
	for _, g := range append(asr.DefaultGrammars(), Grammars()...) {
		grammars[g.Name] = g
	}
	for id, st := range stepTable() {
		if st.grammar == "" {
			continue
		}
		g := grammars[st.grammar]
		if g == nil || !slices.ContainsFunc(g.Rules, func(r asr.Rule) bool { return r.Intent == asr.IntentAgent }) {
			t.Errorf("step %s: grammar %s has no agent rule", id, st.grammar)
		}
		if !st.accepts(asr.IntentAgent) {
			t.Errorf("step %s does not take the agent intent", id)
		}
	}
}

// TestMenuRequestsElsewhere: the payment choice, the payment's confirmation
// and the "end the call?" question hear the menu's requests (so a caller
// changing the subject is not forced onto the requests for a person) and
// take them (the caller is served; dialog_test.go plays it through).
func TestMenuRequestsElsewhere(t *testing.T) {
	grammars := map[string]*asr.Grammar{grammarPay: PayChoiceGrammar()}
	for _, g := range asr.DefaultGrammars() {
		grammars[g.Name] = g
	}
	table := stepTable()
	for _, id := range []stepID{stepPayChoice, stepPayConfirm, stepByeConfirm} {
		st := table[id]
		g := grammars[st.grammar]
		for _, intent := range menuIntents {
			if !slices.ContainsFunc(g.Rules, func(r asr.Rule) bool { return r.Intent == intent }) {
				t.Errorf("step %s: grammar %s has no %s rule", id, g.Name, intent)
			}
			if !st.accepts(intent) {
				t.Errorf("step %s does not take %s", id, intent)
			}
		}
	}
}

func TestMasking(t *testing.T) {
	tests := []struct{ in, entry, words string }{
		{"2468#", "****#", "*"},
		{"2468", "****", "*"},
		{"#", "#", "*"},
		{"", "", ""},
	}
	for _, tc := range tests {
		if got := maskEntry(tc.in); got != tc.entry {
			t.Errorf("maskEntry(%q) = %q, want %q", tc.in, got, tc.entry)
		}
	}
	if got := maskWords("two four  six eight"); got != "****" {
		t.Errorf("maskWords = %q", got)
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"321.09", 32109, true}, {"54", 5400, true}, {"54*1", 5410, true}, {"54*10", 5410, true},
		{"*5", 50, true}, {"0", 0, true}, {"0*00", 0, true}, {"12.", 1200, true},
		{"", 0, false}, {"*", 0, false}, {"1*2*3", 0, false}, {"1.005", 0, false}, {"-5", 0, false},
		{"1e3", 0, false}, {"1234567890123", 0, false}, {"123456789012", 12345678901200, true},
	}
	for _, tc := range tests {
		got, err := ParseAmount(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrAmountFormat) {
			t.Errorf("ParseAmount(%q): %v does not wrap ErrAmountFormat", tc.in, err)
		}
	}
}

func TestValidateAmount(t *testing.T) {
	bal := store.Money{Minor: 32109, Currency: "USD"}
	tests := []struct {
		minor int64
		want  error
	}{{1, nil}, {32109, nil}, {0, ErrAmountZero}, {-5, ErrAmountZero}, {32110, ErrAmountOverBalance}}
	for _, tc := range tests {
		if err := ValidateAmount(store.Money{Minor: tc.minor, Currency: "USD"}, bal); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("ValidateAmount(%d) = %v, want %v", tc.minor, err, tc.want)
		}
	}
}

func TestIdempotencyKey(t *testing.T) {
	usd := func(m int64) store.Money { return store.Money{Minor: m, Currency: "USD"} }
	base := IdempotencyKey("call-1", 1, usd(5410), "4242")
	if again := IdempotencyKey("call-1", 1, usd(5410), "4242"); again != base {
		t.Errorf("same request, different keys: %s %s", base, again)
	}
	if len(base) > 200 || !strings.HasPrefix(base, "call-") {
		t.Errorf("key %q", base)
	}
	others := []string{
		IdempotencyKey("call-2", 1, usd(5410), "4242"),
		IdempotencyKey("call-1", 2, usd(5410), "4242"),
		IdempotencyKey("call-1", 1, usd(5411), "4242"),
		IdempotencyKey("call-1", 1, store.Money{Minor: 5410, Currency: "EUR"}, "4242"),
		IdempotencyKey("call-1", 1, usd(5410), "4243"),
		IdempotencyKey("call-11", 1, usd(5410), "4242"), // no ambiguity from joining
	}
	seen := map[string]bool{base: true}
	for i, k := range others {
		if seen[k] {
			t.Errorf("variant %d gives a key already seen: %s", i, k)
		}
		seen[k] = true
	}
}

// TestTranscript checks the record of a short call: the bot's words as
// text, the caller's turns with input, intent and confidence, masked keys,
// times from the call's start.
func TestTranscript(t *testing.T) {
	st := newMemStore()
	call := newFakeCall(true, keys("2468#"), say(asr.IntentBalance, "", "what's my balance"), say(asr.IntentGoodbye, "", "bye"))
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	tick := start
	b := runBot(t, st, "15550100", call, func(c *Config) {
		c.Now = func() time.Time { tick = tick.Add(time.Second); return tick }
	})
	rec := b.Record()
	if rec.ID != "call-1@test" || rec.From != "15550100" || rec.AccountNumber != "10001" || !rec.Verified ||
		rec.Outcome != OutcomeCompleted || rec.Handover != nil {
		t.Errorf("record %+v", rec)
	}
	if got := strings.Join(rec.DTMF, ","); got != "****#" {
		t.Errorf("DTMF %q", got)
	}
	if got := strings.Join(rec.Intents, ","); got != "digits,balance,goodbye" {
		t.Errorf("intents %q", got)
	}
	want := []struct{ who, text, intent, input string }{
		{WhoBot, "Thanks for calling. You can say agent, or press zero, at any time to reach a person.", "", ""},
		{WhoBot, "I found an account for the number you're calling from.", "", ""},
		{WhoBot, "Please enter your PIN on your keypad.", "", ""},
		{WhoCaller, "****#", "digits", InputDTMF},
		{WhoBot, "Thanks, you're verified.", "", ""},
		{WhoCaller, "what's my balance", "balance", InputSpeech},
		{WhoBot, "Your balance is three hundred twenty one dollars and nine cents", "", ""},
		{WhoCaller, "bye", "goodbye", InputSpeech},
		{WhoBot, "Thanks for calling. Goodbye.", "", ""},
	}
	if len(rec.Transcript) != len(want) {
		t.Fatalf("transcript has %d turns, want %d: %+v", len(rec.Transcript), len(want), rec.Transcript)
	}
	var last time.Duration
	for i, w := range want {
		tu := rec.Transcript[i]
		if tu.Who != w.who || tu.Text != w.text || tu.Intent != w.intent || tu.Input != w.input {
			t.Errorf("turn %d = %+v, want %+v", i, tu, w)
		}
		if tu.At <= last {
			t.Errorf("turn %d at %v, not after %v", i, tu.At, last)
		}
		last = tu.At
		if tu.Input == InputSpeech && tu.Confidence != 0.9 {
			t.Errorf("turn %d confidence %v", i, tu.Confidence)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	err := New(Config{}).Run(t.Context(), newFakeCall(false))
	if !errors.Is(err, ErrConfig) {
		t.Errorf("Run with an empty Config: %v, want ErrConfig", err)
	}
}
