package bot

import (
	"testing"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/store"
)

func TestContained(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  *store.CallRecord
		want bool
	}{
		{"nil", nil, false},
		{"goodbye", &store.CallRecord{Outcome: OutcomeCompleted}, true},
		{"balance, then hung up", &store.CallRecord{Outcome: OutcomeCallerHangup, Intents: []string{asr.IntentDigits, asr.IntentBalance}}, true},
		{"hung up at the PIN", &store.CallRecord{Outcome: OutcomeCallerHangup, Intents: []string{asr.IntentDigits}}, false},
		{"asked for a person", &store.CallRecord{Outcome: OutcomeHandover, Intents: []string{asr.IntentBalance, asr.IntentAgent},
			Handover: &store.Handover{Reason: store.HandoverAsked}}, false},
		{"bot error", &store.CallRecord{Outcome: OutcomeError, Intents: []string{asr.IntentBalance}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Contained(tc.rec); got != tc.want {
				t.Errorf("Contained = %v, want %v", got, tc.want)
			}
		})
	}
}
