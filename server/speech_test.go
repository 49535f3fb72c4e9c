package server

import (
	"testing"

	"github.com/supportline/ivr/asr"
)

func TestLoggableMasksDigits(t *testing.T) {
	tests := []struct {
		ev   asr.Event
		want string
	}{
		{asr.Event{Grammar: asr.GrammarDigits, Text: "two four six eight"}, "* * * *"},
		{asr.Event{Grammar: asr.GrammarDigits, Text: ""}, ""},
		{asr.Event{Grammar: asr.GrammarMain, Text: "what is my balance"}, "what is my balance"},
	}
	for _, tt := range tests {
		if got := loggable(tt.ev); got != tt.want {
			t.Errorf("loggable(%q in %s) = %q, want %q", tt.ev.Text, tt.ev.Grammar, got, tt.want)
		}
	}
}
