package bot

import (
	"os"

	"github.com/supportline/ivr/store"
)

// EvalReport sums up a run of scripted calls. Rates are fractions in
// [0, 1]; a rate over no calls is 0.
type EvalReport struct {
	Calls      int `json:"n_calls"`
	Frustrated int `json:"n_frustrated"`
	Calm       int `json:"n_calm"`
	Agent      int `json:"n_agent"`
	// DetectionRate: frustrated calls handed over for frustration.
	DetectionRate float64 `json:"detection_rate"`
	// EscalatedWithin2: frustrated calls handed over for any reason (also
	// an agent request heard in the angry words) within 2 turns of their
	// first frustrated turn.
	EscalatedWithin2 float64 `json:"escalated_within_2_turns"`
	// DetectedWithin2: frustrated calls handed over for frustration within
	// 2 turns of their first frustrated turn (target ≥ 0.9).
	DetectedWithin2 float64 `json:"detected_within_2_turns"`
	// FalseEscalationRate: calm calls handed over for any reason (target
	// ≤ 0.05).
	FalseEscalationRate float64 `json:"false_escalation_rate"`
	// FalseFrustrationRate: calm calls handed over for frustration (the
	// detector's own false escalations; the rest are requests for a person
	// the recognizer heard in calm words, or the bot giving up).
	FalseFrustrationRate float64 `json:"false_frustration_rate"`
	// MeanTurnsToHandover and MaxTurnsToHandover: turns from the first
	// frustrated turn to the handover, both included, over the frustrated
	// calls handed over for frustration.
	MeanTurnsToHandover float64 `json:"mean_turns_to_handover"`
	MaxTurnsToHandover  int     `json:"max_turns_to_handover"`
	// AgentWithin1: calls asking for a person handed over (reason asked)
	// right after the request (target 1).
	AgentWithin1 float64      `json:"agent_within_1_turn"`
	Results      []CallResult `json:"calls"`
}

func summarise(rs []CallResult) *EvalReport {
	rep := &EvalReport{Calls: len(rs), Results: rs}
	var detected, within2, esc2, falseEsc, falseFrust, agentOK, turns int
	for _, r := range rs {
		switch r.Label {
		case LabelFrustrated:
			rep.Frustrated++
			if r.Reason != "" && r.TurnsToHandover > 0 && r.TurnsToHandover <= 2 {
				esc2++
			}
			if r.Reason == store.HandoverFrustration && r.TurnsToHandover > 0 {
				detected++
				turns += r.TurnsToHandover
				rep.MaxTurnsToHandover = max(rep.MaxTurnsToHandover, r.TurnsToHandover)
				if r.TurnsToHandover <= 2 {
					within2++
				}
			}
		case LabelCalm:
			rep.Calm++
			if r.Reason != "" {
				falseEsc++
			}
			if r.Reason == store.HandoverFrustration {
				falseFrust++
			}
		case LabelAgent:
			rep.Agent++
			if r.Reason == store.HandoverAsked && r.TurnsToHandover == 1 {
				agentOK++
			}
		}
	}
	rep.DetectionRate = rate(detected, rep.Frustrated)
	rep.DetectedWithin2 = rate(within2, rep.Frustrated)
	rep.EscalatedWithin2 = rate(esc2, rep.Frustrated)
	rep.FalseEscalationRate = rate(falseEsc, rep.Calm)
	rep.FalseFrustrationRate = rate(falseFrust, rep.Calm)
	rep.AgentWithin1 = rate(agentOK, rep.Agent)
	rep.MeanTurnsToHandover = rate(turns, detected)
	return rep
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// evalDir is a temporary directory for the evaluation's store.
type evalDir struct{ path string }

func tempDir() (*evalDir, error) {
	p, err := os.MkdirTemp("", "ivr-bot-eval-")
	if err != nil {
		return nil, err
	}
	return &evalDir{path: p}, nil
}

func (d *evalDir) remove() { os.RemoveAll(d.path) }
