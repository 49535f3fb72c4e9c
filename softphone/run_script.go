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
		end, err := c.play(ctx, st.Audio)
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

// play sends pcm through the session and returns when it has all gone out.
func (c *callRun) play(ctx context.Context, pcm []int16) (time.Time, error) {
	src := newPCMSource(pcm)
	c.sess.SetSource(src)
	select {
	case <-src.Done():
		return src.EndedAt(), nil
	case <-ctx.Done():
		c.sess.SetSource(nil)
		return time.Time{}, ctx.Err()
	}
}

func (c *callRun) dtmf(ctx context.Context, st *Step) error {
	var end time.Time
	if c.cfg.DTMFInband {
		var err error
		if end, err = c.play(ctx, inbandDTMF(st.Digits, c.cfg.DTMFDuration, c.cfg.DTMFGap)); err != nil {
			return err
		}
	} else {
		if c.eventPT == 0 {
			return ErrNoTelephoneEvent
		}
		if err := c.sess.SendDTMF(ctx, st.Digits, c.cfg.DTMFDuration, c.cfg.DTMFGap); err != nil {
			return fmt.Errorf("dtmf: %w", err)
		}
		end = time.Now()
	}
	c.emit(Event{Name: EvDTMFSent, At: end, Line: st.Line, Digits: st.Digits, Inband: c.cfg.DTMFInband})
	c.act.markTurn(end, "dtmf", st.Line)
	return nil
}
