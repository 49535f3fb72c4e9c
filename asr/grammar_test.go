package asr

import (
	"strings"
	"testing"
)

func TestDefaultGrammarsMatch(t *testing.T) {
	tests := []struct {
		grammar, hyp, intent string
	}{
		{GrammarMain, "what is my balance", IntentBalance},
		{GrammarMain, "what's my account balance", IntentBalance},
		{GrammarMain, "balance please", IntentBalance},
		{GrammarMain, "when is my next payment due", IntentNextPayment},
		{GrammarMain, "i want to make a payment", IntentMakePayment},
		{GrammarMain, "i'd like to pay my bill", IntentMakePayment},
		{GrammarMain, "did my payment go through", IntentPaymentStatus},
		{GrammarMain, "let me talk to a real person", IntentAgent},
		{GrammarMain, "representative", IntentAgent},
		{GrammarMain, "ph_ay ph_m ph_s agent ph_p", IntentAgent},
		{GrammarMain, "operator ph_p ph_l", IntentAgent},
		{GrammarMain, "can you repeat that", IntentRepeat},
		{GrammarMain, "goodbye", IntentGoodbye},
		{GrammarMain, "ph_ah ph_m", ""},
		{GrammarMain, "", ""},
		{GrammarConfirm, "yes", IntentYes},
		{GrammarConfirm, "no thanks", IntentNo},
		{GrammarConfirm, "that's right", IntentYes},
		{GrammarDigits, "one two three four", IntentDigits},
		{GrammarAmount, "three hundred twenty one dollars and nine cents", IntentAmount},
		{GrammarAmount, "forty five fifty", IntentAmount},
		// A person can be asked for at every step.
		{GrammarConfirm, "agent", IntentAgent},
		{GrammarConfirm, "i want to speak to a representative", IntentAgent},
		{GrammarConfirm, "ph_ay ph_m agent", ""}, // spotting a word in other speech: the main question only
		{GrammarDigits, "agent", IntentAgent},
		{GrammarDigits, "operator please", IntentAgent},
		{GrammarDigits, "let me talk to a real person", IntentAgent},
		{GrammarDigits, "one two agent", ""},
		{GrammarAmount, "agent", IntentAgent},
		{GrammarAmount, "can i speak with someone", IntentAgent},
		{GrammarAmount, "fifty dollars", IntentAmount},
		// A caller who changes the subject at a yes/no question is heard
		// as that request, not forced onto the requests for a person.
		{GrammarConfirm, "what is my balance", IntentBalance},
		{GrammarConfirm, "did my payment go through", IntentPaymentStatus},
		{GrammarConfirm, "i want to check my balance", IntentBalance},
		{GrammarConfirm, "when's my next payment", IntentNextPayment},
	}
	gs := map[string]*compiledGrammar{}
	for _, g := range DefaultGrammars() {
		c, err := g.compile()
		if err != nil {
			t.Fatal(err)
		}
		gs[g.Name] = c
	}
	for _, tt := range tests {
		t.Run(tt.grammar+"/"+tt.hyp, func(t *testing.T) {
			if got := gs[tt.grammar].match(tt.hyp); got != tt.intent {
				t.Errorf("match(%q) = %q, want %q", tt.hyp, got, tt.intent)
			}
		})
	}
}

func TestGrammarErrors(t *testing.T) {
	bad := []*Grammar{
		{Name: "x"},
		{Name: "Bad Name", Rules: []Rule{{"a", "a"}}},
		{Name: "x", Rules: []Rule{{"a", "(a | b"}}},
		{Name: "x", Rules: []Rule{{"a", "<missing>"}}},
	}
	for _, g := range bad {
		if _, err := g.compile(); err == nil {
			t.Errorf("compile(%+v) succeeded", g)
		}
	}
	c, err := MainGrammar().compile()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.jsgf, "public <main> =") || !strings.Contains(c.jsgf, "/0.000000000001/ ph_aa") {
		t.Errorf("jsgf:\n%s", c.jsgf)
	}
}
