package server

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
)

// Observer is told how calls go, for metrics (package metrics implements
// it). Its methods run on the calls' goroutines: they must be quick and
// never block.
type Observer interface {
	// CallEnded reports each call that reached the server once, rejected
	// ones included, after it has left the calls in progress (EachCall).
	CallEnded(s CallSummary)
	// SpeechResult reports a recognition result (final, no-match,
	// no-input) of any call.
	SpeechResult(ev asr.Event)
	// Responded reports how long the bot took to answer a caller's turn:
	// from the end of the turn (the caller's last voiced frame, or the key
	// press) to the first frame of the next prompt handed to the RTP
	// sender. input is InputSpeech or InputDTMF.
	Responded(input string, after time.Duration)
}

// What a caller's turn was, for Observer.Responded.
const (
	InputSpeech = "speech"
	InputDTMF   = "dtmf"
)

// How a call ended, as the server sees it (CallSummary.Outcome); a flow
// that implements Reporter says more (CallSummary.Flow).
const (
	OutcomeRejected     = "rejected"       // refused before ringing: limit, shutdown, no ports, codec
	OutcomeAbandoned    = "abandoned"      // the caller hung up before the answer
	OutcomeFailed       = "failed"         // the answer, the media or the flow failed (RTP time-out included)
	OutcomeCallerHangup = "caller_hung_up" // the caller hung up an answered call
	OutcomeCompleted    = "completed"      // the flow finished and we hung up
	OutcomeShutdown     = "shutdown"       // the server stopped
	OutcomeMaxTime      = "max_call_time"  // the call reached --max-call-time
)

// Reasons a call was rejected (CallSummary.Reason with OutcomeRejected).
const (
	RejectLimit    = "call_limit"
	RejectShutdown = "shutting_down"
	RejectCapacity = "no_capacity"
	RejectError    = "error"
)

// FlowResult is how a flow's part of a call ended, in the flow's own
// words (the bot's are its call record's outcomes: "completed",
// "handover", "caller_hangup", "error").
type FlowResult struct {
	Outcome string
	// Reason is the handover's reason when the call went to a person.
	Reason string
	// Contained is true when the flow served the caller by itself.
	Contained bool
}

// Reporter is a Flow that reports its result; the server asks it once the
// flow has returned.
type Reporter interface {
	Result() FlowResult
}

// CallSummary is one call, as CallEnded reports it.
type CallSummary struct {
	Outcome  string     // an Outcome* constant
	Reason   string     // a Reject* constant (OutcomeRejected only)
	Flow     FlowResult // zero unless the flow is a Reporter
	Answered bool
	Duration time.Duration // from the INVITE's arrival at the server to the end
	Media    media.Stats   // the caller's RTP (zero when rejected)
}

// WithMetrics serves h at GET /metrics and reports every call to obs;
// either may be nil.
func WithMetrics(h http.Handler, obs Observer) Option {
	return func(s *Server) {
		s.metrics = h
		if obs != nil {
			s.obs = obs
		}
	}
}

// nopObserver is the Observer of a server without metrics.
type nopObserver struct{}

func (nopObserver) CallEnded(CallSummary)           {}
func (nopObserver) SpeechResult(asr.Event)          {}
func (nopObserver) Responded(string, time.Duration) {}

// liveCalls are the calls in progress, for EachCall.
type liveCalls struct {
	mu    sync.Mutex
	calls map[*call]struct{}
}

func (l *liveCalls) add(c *call) {
	l.mu.Lock()
	if l.calls == nil {
		l.calls = map[*call]struct{}{}
	}
	l.calls[c] = struct{}{}
	l.mu.Unlock()
}

func (l *liveCalls) remove(c *call) {
	l.mu.Lock()
	delete(l.calls, c)
	l.mu.Unlock()
}

// EachCall calls f for every call in progress with whether it has been
// answered and its RTP counters so far (st is valid during the call of f
// only). f must not block: calls wait to start and end meanwhile.
func (s *Server) EachCall(f func(answered bool, st *media.Stats)) {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	var st media.Stats
	for c := range s.live.calls {
		st = c.sess.Stats()
		f(c.answered.Load(), &st)
	}
}

// reject refuses a call at admission and reports it.
func (s *Server) reject(ic *sip.InboundCall, err error, arrived time.Time) {
	ic.Reject(err)
	reason := RejectError
	switch {
	case errors.Is(err, sip.ErrCallLimit):
		reason = RejectLimit
	case errors.Is(err, sip.ErrShuttingDown):
		reason = RejectShutdown
	case errors.Is(err, sip.ErrCapacity):
		reason = RejectCapacity
	}
	s.obs.CallEnded(CallSummary{Outcome: OutcomeRejected, Reason: reason, Duration: time.Since(arrived)})
}

// callEnd is what run learns about the call's end, for observe.
type callEnd struct {
	start    time.Time
	err      error // the call's errgroup result (nil when it never ran)
	maxTime  bool  // the call hit MaxCallTime
	shutdown bool  // a server shutdown ended the call (drain, or hang-up of all calls)
}

// observe takes the call out of the calls in progress and reports it.
func (c *call) observe(e *callEnd) {
	c.srv.live.remove(c)
	sum := CallSummary{Answered: c.answered.Load(), Duration: time.Since(e.start), Media: c.sess.Stats()}
	if r, ok := c.flow.(Reporter); ok && c.flowDone.Load() {
		sum.Flow = r.Result()
	}
	e.shutdown = e.shutdown || c.shutdown.Load()
	sum.Outcome = c.outcome(e)
	c.srv.obs.CallEnded(sum)
}

// outcome names how the call ended.
func (c *call) outcome(e *callEnd) string {
	return outcomeOf(c.answered.Load(), context.Cause(c.ic.Context()), e)
}

// outcomeOf names how a call ended from whether it was answered, the SIP
// dialog's cause (nil while it is up) and the call's own end.
func outcomeOf(answered bool, cause error, e *callEnd) string {
	switch {
	case !answered && cause == nil:
		return OutcomeFailed // the answer failed (no ACK, bad address)
	case !answered && (errors.Is(cause, sip.ErrCanceled) || errors.Is(cause, sip.ErrRemoteHangup)):
		return OutcomeAbandoned
	case !answered:
		return OutcomeFailed
	case e.shutdown || errors.Is(cause, sip.ErrShuttingDown):
		return OutcomeShutdown
	case e.err != nil && !errors.Is(e.err, errCallOver) && !errors.Is(e.err, context.Canceled):
		return OutcomeFailed // RTP time-out, media or flow error
	case e.maxTime:
		return OutcomeMaxTime
	case errors.Is(cause, sip.ErrRemoteHangup):
		return OutcomeCallerHangup
	}
	return OutcomeCompleted
}

// responseTimeout bounds the wait for a turn's answer: a prompt long after
// a key press (a key sent to the agent, then a prompt when the agent's
// browser dropped) is not an answer to it.
const responseTimeout = 10 * time.Second

// turnEnded notes the end of a caller's turn at t; the first frame of the
// next prompt measures the bot's response time.
func (c *call) turnEnded(input string, t time.Time) {
	c.turn.Store(&turnMark{input: input, at: t})
}

// turnMark is a caller's turn waiting for the bot's answer.
type turnMark struct {
	input string
	at    time.Time
}

// answering wraps a prompt so its first frame reports the response time
// of the turn waiting for an answer; with no turn waiting it is p itself.
func (c *call) answering(p media.Source) media.Source {
	m := c.turn.Swap(nil)
	if m == nil || time.Since(m.at) > responseTimeout {
		return p
	}
	return &firstFrame{Source: p, mark: m, obs: c.srv.obs}
}

// firstFrame reports the time to its first frame, once.
type firstFrame struct {
	media.Source
	mark *turnMark
	obs  Observer
	done atomic.Bool
}

// ReadFrame implements media.Source: after the first frame it costs one
// atomic load.
func (f *firstFrame) ReadFrame(fr []int16) bool {
	ok := f.Source.ReadFrame(fr)
	if ok && !f.done.Load() && f.done.CompareAndSwap(false, true) {
		f.obs.Responded(f.mark.input, time.Since(f.mark.at))
	}
	return ok
}
