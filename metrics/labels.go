package metrics

import (
	"github.com/supportline/ivr/bot"
	"github.com/supportline/ivr/server"
	"github.com/supportline/ivr/store"
)

// other is the label value of anything outside a label's fixed set.
const other = "other"

// The bot's words for its part of a call (bot.Outcome*).
const (
	botCompleted = bot.OutcomeCompleted
	botHandover  = bot.OutcomeHandover
	botHangup    = bot.OutcomeCallerHangup
	botError     = bot.OutcomeError
)

// Call outcomes (ivr_calls_total{outcome}).
const (
	outBotCompleted = "bot_completed"
	outHandedOver   = "handed_over"
)

// The fixed sets of label values. Each is created at zero on start so a
// rate over it is defined before the first event.
var (
	outcomes = []string{server.OutcomeRejected, server.OutcomeAbandoned, server.OutcomeFailed,
		outBotCompleted, outHandedOver, server.OutcomeCallerHangup, server.OutcomeCompleted,
		server.OutcomeShutdown, server.OutcomeMaxTime}
	rejectReasons   = []string{server.RejectLimit, server.RejectShutdown, server.RejectCapacity, server.RejectError}
	handoverReasons = []string{store.HandoverAsked, store.HandoverFrustration, store.HandoverBotFailed}
	asrResults      = []string{"match", "nomatch", "noinput"}
	inputs          = []string{server.InputSpeech, server.InputDTMF}
	queueResults    = []string{"answered", "left"}
)

// oneOf returns v when it is in set, else "other": no label value comes
// from outside the code.
func oneOf(v string, set []string) string {
	for _, s := range set {
		if v == s {
			return v
		}
	}
	return other
}

// outcomeLabel is a call's ivr_calls_total outcome: what the flow says
// where it knows (the bot finished, handed over), else what the server
// saw (rejected, abandoned, failed, caller hung up, ...).
func outcomeLabel(s server.CallSummary) string {
	switch {
	case s.Outcome == server.OutcomeRejected || s.Outcome == server.OutcomeAbandoned:
		return s.Outcome
	case s.Outcome == server.OutcomeShutdown && s.Flow.Outcome != botHandover && s.Flow.Outcome != botCompleted:
		return s.Outcome
	case s.Flow.Outcome == botHandover:
		return outHandedOver
	case s.Flow.Outcome == botCompleted && s.Outcome != server.OutcomeFailed:
		return outBotCompleted
	case s.Flow.Outcome == botError:
		return server.OutcomeFailed
	case s.Flow.Outcome == botHangup && s.Outcome == server.OutcomeCompleted:
		return server.OutcomeCallerHangup
	}
	return oneOf(s.Outcome, outcomes)
}

// zero creates every series of the fixed label sets at zero.
func (m *Metrics) zero() {
	for _, v := range outcomes {
		m.calls.WithLabelValues(v)
	}
	for _, v := range rejectReasons {
		m.rejected.WithLabelValues(v)
	}
	for _, v := range handoverReasons {
		m.handovers.WithLabelValues(v)
	}
	for _, v := range asrResults {
		m.asrResults.WithLabelValues(v)
	}
	for _, v := range inputs {
		m.response.WithLabelValues(v)
	}
	for _, v := range queueResults {
		m.queueWait.WithLabelValues(v)
	}
}
