package asr

import (
	"reflect"
	"testing"
)

func TestMatchCues(t *testing.T) {
	tests := []struct {
		grammar, hyp, intent string
		cues                 []Cue
	}{
		{GrammarMain, "what is my balance", IntentBalance, nil},
		{GrammarMain, "this is useless what is my balance", IntentBalance,
			[]Cue{{CueFrustrated, "this is useless"}}},
		{GrammarMain, "what is my balance you're not listening", IntentBalance,
			[]Cue{{CueFrustrated, "you're not listening"}}},
		{GrammarMain, "ridiculous", "", []Cue{{CueFrustrated, "ridiculous"}}},
		{GrammarMain, "ph_ay ph_m stupid machine ph_n", "", []Cue{{CueFrustrated, "stupid machine"}}},
		{GrammarMain, "damn it ph_ah", "", []Cue{{CueSwearing, "damn it"}}},
		{GrammarMain, "oh come on let me talk to a real person", IntentAgent, []Cue{{CueFrustrated, "oh come on"}}},
		{GrammarMain, "ph_ah ph_m", "", nil},
		{GrammarConfirm, "yes this is ridiculous", IntentYes, []Cue{{CueFrustrated, "this is ridiculous"}}},
		{GrammarAmount, "fifty dollars damn it", IntentAmount, []Cue{{CueSwearing, "damn it"}}},
		{GrammarAmount, "fifty useless dollars", "", nil},
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
			intent, cues := gs[tt.grammar].matchCues(tt.hyp)
			if intent != tt.intent || !reflect.DeepEqual(cues, tt.cues) {
				t.Errorf("matchCues(%q) = %q %v, want %q %v", tt.hyp, intent, cues, tt.intent, tt.cues)
			}
		})
	}
}
