package softphone

import (
	"context"
	"fmt"
	"time"
)

// runScript runs the script's steps in order. It returns errHangupStep at a
// hangup step, nil at the end, and the step's error (naming its line) when
// one fails.
func (c *callRun) runScript(ctx context.Context) error {
	for _, st := range c.script.Steps {
		c.emit(Event{Name: EvStep, Line: st.Line, Step: st.Text})
		if err := c.step(ctx, &st); err != nil {
			if err == errHangupStep || ctx.Err() != nil {
				return err
			}
			return fmt.Errorf("%s:%d: %w", c.script.Name, st.Line, err)
		}
		c.r.StepsDone++
	}
	return nil
}

func (c *callRun) step(ctx context.Context, st *Step) error {
	switch st.Kind {
	case StepPlay:
		end, err := c.play(ctx, newPCMSource(st.Audio))
		if err != nil {
			return err
		}
		c.emit(Event{Name: EvPlayEnd, At: end, Line: st.Line})
		c.act.markTurn(end, "play", st.Line)
	case StepDTMF:
		return c.dtmf(ctx, st)
	case StepWait:
		t := time.NewTimer(st.Duration)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	case StepWaitSilence:
		if err := c.act.waitStop(ctx, st.Duration); err != nil {
			if err == ErrSilenceTimeout {
				return fmt.Errorf("%w after %v", err, st.Duration)
			}
			return err
		}
	case StepHangup:
		return errHangupStep
	}
	return nil
}

// play sends src through the session and returns when it has all gone out.
func (c *callRun) play(ctx context.Context, src *pcmSource) (time.Time, error) {
	c.sess.SetSource(src)
	select {
	case <-src.Done():
		return src.EndedAt(), nil
	case <-ctx.Done():
		c.sess.SetSource(nil)
		return time.Time{}, ctx.Err()
	}
}

// dtmf sends a dtmf step. The turn is marked when the last digit starts:
// that is when an IVR acts on it.
func (c *callRun) dtmf(ctx context.Context, st *Step) error {
	mark := func(t time.Time) { c.act.markTurn(t, "dtmf", st.Line) }
	var end time.Time
	if c.cfg.DTMFInband {
		src := newPCMSource(nil)
		src.pcm, src.mark = inbandDTMF(st.Digits, c.cfg.DTMFDuration, c.cfg.DTMFGap)
		src.onMark = mark
		var err error
		if end, err = c.play(ctx, src); err != nil {
			return err
		}
	} else {
		if err := c.sendDTMF(ctx, st.Digits, mark); err != nil {
			return err
		}
		end = time.Now()
	}
	c.emit(Event{Name: EvDTMFSent, At: end, Line: st.Line, Digits: st.Digits, Inband: c.cfg.DTMFInband})
	return nil
}

// sendDTMF sends digits as RFC 4733 events, the last one separately so its
// start can be marked.
func (c *callRun) sendDTMF(ctx context.Context, digits string, mark func(time.Time)) error {
	if c.eventPT == 0 {
		return ErrNoTelephoneEvent
	}
	n := len(digits)
	if n > 1 {
		if err := c.sess.SendDTMF(ctx, digits[:n-1], c.cfg.DTMFDuration, c.cfg.DTMFGap); err != nil {
			return fmt.Errorf("dtmf: %w", err)
		}
		// SendDTMF returns after the end packet's repeats (40 ms): wait out
		// the rest of the gap.
		t := time.NewTimer(max(c.cfg.DTMFGap-40*time.Millisecond, 0))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	mark(time.Now())
	if err := c.sess.SendDTMF(ctx, digits[n-1:], c.cfg.DTMFDuration, c.cfg.DTMFGap); err != nil {
		return fmt.Errorf("dtmf: %w", err)
	}
	return nil
}
