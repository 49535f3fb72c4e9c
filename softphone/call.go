package softphone

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
)

// telephoneEventPT is the payload type we offer for RFC 4733 events.
const telephoneEventPT = 101

// hangupWait bounds how long we wait for the far end to confirm our BYE.
const hangupWait = 5 * time.Second

// errHangupStep ends a script at a hangup step.
var errHangupStep = errors.New("script hangup")

// Result is the outcome of one call.
type Result struct {
	Call            int       `json:"call"`
	Answered        bool      `json:"answered"`
	SetupMs         float64   `json:"setup_ms,omitempty"` // INVITE → 200 OK
	Codec           string    `json:"codec,omitempty"`
	SRTP            string    `json:"srtp,omitempty"`      // the SRTP suite, empty for plain RTP
	HangupBy        string    `json:"hangup_by,omitempty"` // "local" or "remote"
	HangupReason    string    `json:"hangup_reason,omitempty"`
	Code            int       `json:"code,omitempty"`    // SIP status of a refusal
	Failure         string    `json:"failure,omitempty"` // why the call failed
	DurationMs      float64   `json:"duration_ms"`       // answer → end
	StepsDone       int       `json:"steps_done"`
	ResponseMs      []float64 `json:"response_ms,omitempty"` // per turn after a play step
	Turns           []Turn    `json:"turns,omitempty"`       // every response, after play or dtmf
	PacketsSent     uint64    `json:"packets_sent"`
	PacketsReceived uint64    `json:"packets_received"`
	Lost            int64     `json:"lost"`
	MaxRecvGapMs    float64   `json:"max_recv_gap_ms"`
	Recording       string    `json:"recording,omitempty"`

	// Err is why the call failed (nil when it did not); Stats the RTP
	// session's counters.
	Err   error       `json:"-"`
	Stats media.Stats `json:"-"`
	setup time.Duration
}

// Failed reports whether the call failed.
func (r *Result) Failed() bool { return r.Err != nil }

// Dial places one call to cfg.Target, runs script on it (nil: stay on the
// call until the far end hangs up or cfg.Duration), and reports it to
// events (nil: nowhere). The returned error is the reason the call failed;
// the Result is filled in either way once dialing started.
func Dial(ctx context.Context, cfg Config, script *Script, events EventSink) (*Result, error) {
	e, err := newEnv(cfg, script, events)
	if err != nil {
		return nil, err
	}
	defer e.close()
	r := e.call(ctx, 0, cfg.Record)
	return r, r.Err
}

// env is what the calls of a run share: one Phone (one signaling socket),
// one RTP port allocator, the script and the event sink.
type env struct {
	cfg     Config
	script  *Script
	sink    EventSink
	phone   *sip.Phone
	ports   *media.PortAllocator
	addr    netip.Addr
	codec   media.Codec
	formats []sip.Format

	started, up, answered, failed, ended atomic.Int64
	bg                                   sync.WaitGroup // INVITEs given up on
}

func newEnv(cfg Config, script *Script, events EventSink) (*env, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if events == nil {
		events = nopSink{}
	}
	e := &env{cfg: cfg, script: script, sink: events}
	e.codec, _ = media.CodecByName(cfg.Codec)
	e.formats = []sip.Format{
		{PayloadType: e.codec.PayloadType, Name: e.codec.Name, ClockRate: media.SampleRate},
		{PayloadType: telephoneEventPT, Name: media.TelephoneEvent, ClockRate: media.SampleRate, Fmtp: "0-16"},
	}
	if e.addr, err = mediaAddr(cfg.Local, cfg.Target); err != nil {
		return nil, err
	}
	if e.ports, err = media.NewPortAllocator(e.addr, cfg.RTPLow, cfg.RTPHigh); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	pc, err := phoneConfig(cfg)
	if err != nil {
		return nil, err
	}
	e.phone, err = sip.NewPhone(pc)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// close stops the phone, which also ends INVITEs still pending, and waits
// for them.
func (e *env) close() {
	e.phone.Close()
	e.bg.Wait()
}

// call places call number idx and runs it to its end.
func (e *env) call(ctx context.Context, idx int, record string) *Result {
	c := &callRun{env: e, idx: idx, r: &Result{Call: idx, Recording: record}}
	c.emit(Event{Name: EvDialing})
	err := c.run(ctx, record)
	r := c.r
	if err != nil {
		r.Err = err
		r.Failure = err.Error()
		var se *sip.StatusError
		if errors.As(err, &se) {
			r.Code = se.Code
		}
		e.failed.Add(1)
		c.emit(Event{Name: EvFailed, Code: r.Code, Reason: r.Failure})
	}
	e.ended.Add(1)
	c.emit(Event{Name: EvSummary, Result: r})
	return r
}

// callRun is one call in progress.
type callRun struct {
	*env
	idx     int
	r       *Result
	sess    *media.Session
	act     *activity
	eventPT uint8        // negotiated telephone-event payload type; 0 = none
	offered []sip.Crypto // our SDES offer (srtp.go); nil for plain RTP
}

func (c *callRun) emit(ev Event) {
	ev.Call = c.idx
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	c.sink.Event(ev)
}

// run dials, and once answered runs the media session and the script.
func (c *callRun) run(ctx context.Context, record string) error {
	var rec *recorder
	if record != "" { // before dialing: a bad path must not cost a call
		var err error
		if rec, err = newRecorder(record); err != nil {
			return err
		}
		defer rec.Close()
	}
	if err := c.offerSRTP(); err != nil {
		return err
	}
	ports, err := c.ports.Allocate()
	if err != nil {
		return fmt.Errorf("rtp: %w", err)
	}
	call, err := c.dial(ctx, ports)
	if err != nil {
		return err
	}
	c.up.Add(1)
	defer c.up.Add(-1)
	defer func() {
		hctx, cancel := context.WithTimeout(context.Background(), hangupWait)
		defer cancel()
		_ = call.Hangup(hctx) // after a remote BYE this only forgets the dialog
	}()
	codec, eventPT, err := c.negotiated(call.Answer)
	var crypto media.PacketCrypto
	if err == nil {
		crypto, err = c.answerSRTP(call.Answer)
	}
	if err != nil {
		ports.Close()
		c.emit(Event{Name: EvHangup, By: "local", Reason: err.Error()})
		return err
	}
	c.r.Codec, c.eventPT = codec.Name, eventPT
	c.emit(Event{Name: EvAnswered, SetupMs: ptr(c.r.SetupMs), Codec: codec.String()})
	sink := &callSink{first: make(chan struct{})}
	c.act = newActivity(c.cfg.ActivityThreshold, c.cfg.Quiet, c.emit)
	sink.act = c.act
	sink.rec = rec
	c.sess, err = media.NewSession(media.SessionConfig{
		Ports: ports, Remote: call.Answer.RTPAddr(), Codec: codec, EventPT: eventPT, Symmetric: true,
		InactivityTimeout: c.cfg.RTPTimeout, JitterDelay: c.cfg.JitterDelay, Sink: sink, Crypto: crypto,
		Log: c.cfg.Log.With("call", c.idx, "call_id", call.ID),
	})
	if err != nil {
		ports.Close()
		return err
	}
	return c.converse(ctx, call, sink.first)
}

// dial sends the INVITE and waits for the answer. It owns ports when it
// fails.
//
// sipgo can CANCEL only after a provisional response, so a far end that
// sent none would hold sip.Phone.Dial until Timer B (32 s) even though
// setupCtx ended. dial then returns at the time-out regardless and leaves
// the INVITE to finish in the background (env.bg), hanging up if it is
// answered after all. After a provisional response it waits for Dial,
// which sends CANCEL and returns with the 487.
func (c *callRun) dial(ctx context.Context, ports *media.PortPair) (*sip.OutboundCall, error) {
	local := sip.LocalMedia{Addr: c.addr, Port: int(ports.RTPAddr().Port()), Formats: c.formats, Crypto: c.offered}
	setupCtx, cancel := context.WithTimeoutCause(ctx, c.cfg.SetupTimeout, ErrSetupTimeout)
	defer cancel()
	var rang, provisional atomic.Bool
	progress := func(code int, reason string) {
		provisional.Store(true)
		if (code == 180 || code == 183) && !rang.Swap(true) {
			c.emit(Event{Name: EvRinging, Code: code, Reason: reason})
		}
	}
	type answer struct {
		call *sip.OutboundCall
		err  error
	}
	done, abandoned := make(chan answer), make(chan struct{})
	t0 := time.Now()
	c.bg.Go(func() {
		call, err := c.phone.Dial(setupCtx, c.cfg.Target, local, progress)
		select {
		case done <- answer{call, err}:
		case <-abandoned:
			if call != nil {
				hctx, cancel := context.WithTimeout(context.Background(), hangupWait)
				_ = call.Hangup(hctx)
				cancel()
			}
			ports.Close()
		}
	})
	var a answer
	select {
	case a = <-done:
	case <-setupCtx.Done():
		if provisional.Load() {
			a = <-done // CANCEL can go out now; the 487 follows at once
			break
		}
		close(abandoned)
		a.err = context.Cause(setupCtx)
	}
	if a.err != nil {
		if a.call == nil {
			ports.Close() // a no-op when the background dial owns them
		}
		return nil, c.dialError(ctx, a.err)
	}
	c.r.setup = time.Since(t0)
	c.r.SetupMs = msOf(c.r.setup)
	c.r.Answered = true
	c.answered.Add(1)
	return a.call, nil
}

// dialError says why a call was not answered.
func (c *callRun) dialError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: while dialing", ErrInterrupted)
	case errors.Is(err, ErrSetupTimeout):
		return fmt.Errorf("%w (%v)", ErrSetupTimeout, c.cfg.SetupTimeout)
	}
	return err
}

// negotiated reads the codec and telephone-event payload type from the answer.
func (c *callRun) negotiated(answer *sip.Media) (media.Codec, uint8, error) {
	var codec media.Codec
	var eventPT uint8
	found := false
	for _, f := range answer.Formats {
		if strings.EqualFold(f.Name, media.TelephoneEvent) && f.ClockRate == media.SampleRate && eventPT == 0 {
			eventPT = f.PayloadType
			continue
		}
		if cd, err := media.CodecByName(f.Name); err == nil && !found && f.ClockRate == media.SampleRate {
			codec, found = cd, true
			codec.PayloadType = f.PayloadType
		}
	}
	if !found {
		return codec, 0, fmt.Errorf("%w: no PCMU or PCMA in answer", ErrBadAnswer)
	}
	if !answer.RTPAddr().IsValid() || answer.Port == 0 {
		return codec, 0, fmt.Errorf("%w: no RTP address", ErrBadAnswer)
	}
	return codec, eventPT, nil
}

// converse runs the media session and the script until the call ends, and
// says why it ended: nil for a normal end.
func (c *callRun) converse(ctx context.Context, call *sip.OutboundCall, firstRTP <-chan struct{}) error {
	answeredAt := time.Now()
	callCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var wg sync.WaitGroup
	sessDone := make(chan error, 1)
	wg.Go(func() { sessDone <- c.sess.Run(callCtx) })
	scriptDone := make(chan error, 1)
	if c.script != nil {
		wg.Go(func() { scriptDone <- c.runScript(callCtx) })
	}
	by, reason, err := c.await(ctx, call, sessDone, scriptDone, firstRTP)
	stop(ErrInterrupted)
	c.sess.Close()
	wg.Wait()
	c.act.end()
	c.r.Stats = c.sess.Stats()
	c.r.DurationMs = msOf(time.Since(answeredAt))
	c.fillStats()
	if by == "local" {
		hctx, cancel := context.WithTimeout(context.Background(), hangupWait)
		_ = call.Hangup(hctx)
		cancel()
	}
	c.r.HangupBy, c.r.HangupReason = by, reason
	c.emit(Event{Name: EvHangup, By: by, Reason: reason})
	return err
}

// await waits for the first thing that ends the call.
func (c *callRun) await(ctx context.Context, call *sip.OutboundCall, sessDone, scriptDone <-chan error,
	firstRTP <-chan struct{}) (by, reason string, err error) {
	noRTP := time.NewTimer(c.cfg.NoRTPTimeout)
	defer noRTP.Stop()
	var limit <-chan time.Time
	if c.cfg.Duration > 0 {
		t := time.NewTimer(c.cfg.Duration)
		defer t.Stop()
		limit = t.C
	}
	for {
		select {
		case <-call.Context().Done():
			return "remote", "BYE from the far end", nil
		case err := <-sessDone:
			if errors.Is(err, media.ErrRTPTimeout) {
				err = fmt.Errorf("%w: none for %v", ErrRTPStopped, c.cfg.RTPTimeout)
			} else {
				err = fmt.Errorf("rtp: %w", err)
			}
			return "local", err.Error(), err
		case err := <-scriptDone:
			switch {
			case errors.Is(err, errHangupStep):
				return "local", "script hangup", nil
			case err != nil:
				return "local", err.Error(), err
			}
			scriptDone = nil // script over: stay on the call
		case <-firstRTP:
			noRTP.Stop()
			firstRTP = nil
		case <-noRTP.C:
			err := fmt.Errorf("%w within %v after answer", ErrNoRTP, c.cfg.NoRTPTimeout)
			return "local", err.Error(), err
		case <-limit:
			return "local", "duration reached", nil
		case <-ctx.Done():
			return "local", ErrInterrupted.Error(), nil
		}
	}
}

func (c *callRun) fillStats() {
	st := &c.r.Stats
	c.r.PacketsSent, c.r.PacketsReceived, c.r.Lost = st.PacketsSent, st.PacketsReceived, st.Lost
	c.r.MaxRecvGapMs = msOf(st.MaxRecvGap)
	c.r.Turns = c.act.Turns()
	for _, t := range c.r.Turns {
		if t.After == "play" {
			c.r.ResponseMs = append(c.r.ResponseMs, t.ResponseMs)
		}
	}
}
