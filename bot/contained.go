package bot

import (
	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/store"
)

// servedIntents are the requests the bot answers by itself.
var servedIntents = map[string]bool{
	asr.IntentBalance: true, asr.IntentNextPayment: true, asr.IntentMakePayment: true,
	asr.IntentPaymentStatus: true,
}

// Contained reports whether the bot served a call by itself (bot
// containment): no handover, and the caller said goodbye, or hung up after
// asking the bot for a balance, a due date, a payment or its status.
func Contained(rec *store.CallRecord) bool {
	if rec == nil || rec.Handover != nil {
		return false
	}
	switch rec.Outcome {
	case OutcomeCompleted:
		return true
	case OutcomeCallerHangup:
		return askedServed(rec.Intents)
	}
	return false
}

// askedServed reports whether intents hold a request the bot serves.
func askedServed(intents []string) bool {
	for _, in := range intents {
		if servedIntents[in] {
			return true
		}
	}
	return false
}
