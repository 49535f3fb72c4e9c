package server

import (
	"context"
	"time"
)

// goodbyeWait bounds the polite end of a call at shutdown: the shutdown
// goodbye prompt (about 6 s) and the BYE.
const goodbyeWait = 15 * time.Second

// PromptShutdown is played to calls still up when the drain time is over.
const PromptShutdown = "shutdown_goodbye"

// shutdownCause is the cancellation cause of a flow ended by a shutdown.
// Its Outcome names the call's outcome for the call record.
type shutdownCause struct{}

func (shutdownCause) Error() string   { return "server shutting down" }
func (shutdownCause) Outcome() string { return "shutdown" }

// errShutdown ends a call's flow when the drain time is over.
var errShutdown error = shutdownCause{}

// StopNow ends a graceful shutdown at once: calls still up are hung up
// without the goodbye prompt. It is for a second SIGTERM; safe to call
// more than once and before Run.
func (s *Server) StopNow() { s.stopOnce.Do(func() { close(s.stopNow) }) }

// drain is the graceful part of a shutdown. New calls get 503 from now on;
// calls in progress go on for DrainTime; those still up then hear the
// shutdown goodbye and are hung up. StopNow cuts any stage short. When it
// returns, the caller stops SIP, which hangs up whatever is left.
func (s *Server) drain() {
	s.draining.Store(true)
	s.ready.Store(false)
	s.sip.Drain()
	n := s.active.Load()
	if n == 0 {
		return
	}
	s.log.Info("draining: new calls get 503", "calls", n, "drain_time", s.cfg.DrainTime)
	drainT := time.NewTimer(s.cfg.DrainTime)
	defer drainT.Stop()
	switch s.waitIdle(drainT.C, s.stopNow) {
	case idleNow:
		s.log.Info("drained: every call finished")
		return
	case stoppedNow:
		s.stopFlows()
		return
	}
	s.log.Info("drain time over: ending calls politely", "calls", s.active.Load())
	close(s.ending)
	byeT := time.NewTimer(goodbyeWait)
	defer byeT.Stop()
	switch s.waitIdle(byeT.C, s.stopNow) {
	case idleNow:
		s.log.Info("drained: every call ended")
	case stoppedNow:
		s.stopFlows()
	default:
		s.log.Warn("calls still up after their goodbye; hanging up", "calls", s.active.Load())
	}
}

// stopFlows is StopNow's end of the drain: every call's flow is ended (no
// goodbye, so the record still says shutdown) and the calls hang up; after
// a short wait whatever is left is hung up by the SIP server's stop.
func (s *Server) stopFlows() {
	s.log.Warn("stopping now: hanging up calls", "calls", s.active.Load())
	t := time.NewTimer(stopNowWait)
	defer t.Stop()
	s.waitIdle(t.C, nil) // StopNow has happened: wait only for the calls or the timer
}

// stopNowWait bounds how long StopNow lets flows end and send their BYE
// before the SIP server's stop hangs up the rest.
const stopNowWait = 2 * time.Second

// waitResult says why waitIdle returned.
type waitResult int

const (
	idleNow waitResult = iota
	timedOut
	stoppedNow
)

// waitIdle waits until no call is left, the deadline fires, or stop is
// closed (a nil stop never is).
func (s *Server) waitIdle(deadline <-chan time.Time, stop <-chan struct{}) waitResult {
	for s.active.Load() > 0 {
		select {
		case <-s.idle:
		case <-deadline:
			return timedOut
		case <-stop:
			return stoppedNow
		}
	}
	return idleNow
}

// callDone counts a call out; the last one out of a draining server wakes
// drain.
func (s *Server) callDone() {
	if s.active.Add(-1) == 0 && s.draining.Load() {
		select {
		case s.idle <- struct{}{}:
		default:
		}
	}
}

// watchShutdown ends the call's flow with errShutdown when the drain time
// is over (the flow's runner then says goodbye) or at StopNow (no goodbye).
func (c *call) watchShutdown(ctx context.Context, stopFlow context.CancelCauseFunc) error {
	select {
	case <-c.srv.ending:
	case <-c.srv.stopNow:
	case <-ctx.Done():
		return errCallOver
	}
	stopFlow(errShutdown)
	return nil
}

// sayShutdownGoodbye plays the shutdown goodbye to a call whose flow was
// ended by the drain; the handler then hangs up (BYE).
func (c *call) sayShutdownGoodbye(ctx context.Context) {
	select {
	case <-c.srv.stopNow:
		c.log.Info("ending call: server stopping now")
		return
	default:
	}
	c.log.Info("ending call: server shutting down")
	pctx, cancel := context.WithTimeout(ctx, goodbyeWait)
	defer cancel()
	c.drainDigits()
	if _, err := c.Play(pctx, PromptShutdown); err != nil && ctx.Err() == nil {
		c.log.Warn("shutdown goodbye not played", "error", err)
	}
}

// drainDigits drops queued key presses so they don't cut the goodbye short
// (Play treats queued keys as type-ahead barge-in).
func (c *call) drainDigits() {
	for {
		select {
		case <-c.digits:
		default:
			return
		}
	}
}
