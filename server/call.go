package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/sip"
)

// errCallOver ends a call's goroutine group when one part finishes normally.
var errCallOver = errors.New("call over")

// call coordinates one call: the SIP dialog, the RTP session, DTMF from
// every path, and the flow. It owns no protocol logic of its own.
type call struct {
	srv    *Server
	ic     *sip.InboundCall
	log    *slog.Logger
	info   CallInfo
	ports  *media.PortPair
	sess   *media.Session
	srtp   *media.SRTP // nil for plain RTP (srtp.go)
	sink   *frameFanout
	merger *media.DTMFMerger
	digits chan media.DTMF
	player atomic.Pointer[prompts.Player] // the prompt playing now, for barge-in
	rec    *callRecording                 // nil when calls are not recorded

	stream    asr.Stream // nil when speech is off
	speech    chan asr.Event
	listening atomic.Bool // the flow asked for speech: results go to it, speech barges in
	speechOff atomic.Bool // recognition failed during the call

	flow     Flow        // set by runFlow, for its Result (observe.go)
	flowDone atomic.Bool // the flow has returned
	answered atomic.Bool
	shutdown atomic.Bool              // a server shutdown ended the call (its outcome)
	turn     atomic.Pointer[turnMark] // a caller's turn waiting for the bot's answer
}

func (s *Server) newCall(ic *sip.InboundCall) (*call, error) {
	neg, event := ic.Negotiated()
	codec, err := media.CodecByName(neg.Name)
	if err != nil {
		return nil, err
	}
	codec.PayloadType = neg.PayloadType
	c := &call{srv: s, ic: ic, log: ic.Log(), digits: make(chan media.DTMF, 32), speech: make(chan asr.Event, 8),
		info: CallInfo{ID: ic.ID, From: ic.From, To: ic.To, Transport: ic.Transport, Codec: codec.Name}}
	c.merger = media.NewDTMFMerger()
	c.sink = &frameFanout{inband: media.NewDTMFDetector(media.WithDTMFHandler(c.press))}
	if c.srtp, err = newCallCrypto(ic); err != nil {
		return nil, err
	}
	var sendTap media.PCM16Writer
	if s.cfg.RecordCalls {
		c.rec = &callRecording{}
		c.sink.rec, sendTap = c.rec, c.rec
	}
	if c.ports, err = s.ports.Allocate(); err != nil {
		return nil, err
	}
	var eventPT uint8
	if event != nil {
		eventPT = event.PayloadType
	}
	c.sess, err = media.NewSession(media.SessionConfig{
		Ports: c.ports, Remote: ic.Offer.RTPAddr(), Codec: codec, EventPT: eventPT, Symmetric: true,
		InactivityTimeout: s.cfg.RTPTimeout, Sink: c.sink, SendTap: sendTap, Log: c.log, Crypto: c.packetCrypto(),
	})
	if err != nil {
		c.ports.Close()
		return nil, err
	}
	return c, nil
}

// run answers the call and runs it to its end.
func (c *call) run(arrived time.Time) {
	defer c.sess.Close()
	end := &callEnd{start: arrived}
	c.srv.live.add(c)
	defer c.observe(end)
	start := time.Now()
	if err := c.ic.Ringing(); err != nil {
		c.log.Info("ringing failed", "error", err)
		return
	}
	if !c.ring() {
		c.log.Info("caller gave up while ringing", "cause", context.Cause(c.ic.Context()))
		return
	}
	addr, err := netip.ParseAddr(c.srv.cfg.PublicAddr)
	if err != nil {
		c.ic.Reject(err)
		return
	}
	local := sip.LocalMedia{Addr: addr, Port: int(c.ports.RTPAddr().Port())}
	if err := c.ic.Answer(local); err != nil {
		c.log.Info("call not answered", "error", err)
		return
	}
	c.answered.Store(true)
	c.log.Info("call answered", "from", c.info.From, "to", c.info.To, "codec", c.info.Codec,
		"transport", c.info.Transport, "remote_rtp", c.ic.Offer.RTPAddr().String(),
		"local_rtp", c.ports.RTPAddr().String(), "setup", time.Since(start).Round(time.Microsecond))
	c.applyRemote(c.ic.Remote())

	callCtx, cancel := context.WithTimeout(c.ic.Context(), c.srv.cfg.MaxCallTime)
	defer cancel()
	c.startRecording()
	g, ctx := errgroup.WithContext(callCtx)
	if c.startSpeech(ctx) {
		g.Go(func() error { return c.pumpSpeech(ctx) })
	}
	g.Go(func() error { return c.runMedia(ctx) })
	g.Go(func() error { return c.pumpDTMF(ctx) })
	g.Go(func() error { return c.watchRemote(ctx) })
	flowCtx, stopFlow := context.WithCancelCause(ctx)
	defer stopFlow(nil)
	g.Go(func() error { return c.watchShutdown(ctx, stopFlow) })
	g.Go(func() error { return c.runFlow(ctx, flowCtx) })
	err = g.Wait()
	end.err, end.maxTime = err, errors.Is(callCtx.Err(), context.DeadlineExceeded)
	c.stopPrompt()
	c.finishRecording()
	st := c.sess.Stats()
	c.logSRTP(st)
	c.log.Info("call ended", "cause", endCause(c.ic.Context(), err), "duration", time.Since(start).Round(time.Millisecond),
		"rtp_sent", st.PacketsSent, "rtp_received", st.PacketsReceived, "rtp_lost", st.Lost,
		"garbage", st.Garbage, "max_send_gap", st.MaxSendGap,
		"send_20ms_pm5", fmt.Sprintf("%.4f", st.SendIntervals.Within(20*time.Millisecond, 5*time.Millisecond)),
		"tick_late_p999", st.TickLateness.Percentile(0.999), "tick_late_max", st.TickLateness.Max)
}

// ring lets the phone ring for the configured time; it reports false when
// the caller cancelled meanwhile.
func (c *call) ring() bool {
	if c.srv.cfg.RingTime <= 0 {
		return true
	}
	t := time.NewTimer(c.srv.cfg.RingTime)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ic.Context().Done():
		return false
	}
}

// endCause names why a call ended, for the log.
func endCause(sipCtx context.Context, err error) string {
	if cause := context.Cause(sipCtx); cause != nil {
		return cause.Error()
	}
	if err != nil && !errors.Is(err, errCallOver) {
		return err.Error()
	}
	return "flow finished"
}

func (c *call) runMedia(ctx context.Context) error {
	err := c.sess.Run(ctx)
	if errors.Is(err, media.ErrRTPTimeout) {
		c.log.Warn("no RTP from caller; hanging up", "timeout", c.srv.cfg.RTPTimeout)
		return err
	}
	if err != nil {
		return fmt.Errorf("rtp: %w", err)
	}
	return errCallOver
}

// runFlow runs the call's flow under flowCtx, which a shutdown may end
// before ctx (the call's own): the call then hears the shutdown goodbye.
func (c *call) runFlow(ctx, flowCtx context.Context) error {
	flow := c.srv.flows(c.info)
	c.flow = flow
	err := flow.Run(flowCtx, c)
	c.flowDone.Store(true)
	if ctx.Err() == nil && context.Cause(flowCtx) == errShutdown {
		c.shutdown.Store(true)
		c.sayShutdownGoodbye(ctx)
		return errCallOver
	}
	if err != nil && ctx.Err() == nil {
		c.log.Error("flow failed", "error", err)
		return err
	}
	return errCallOver
}

// pumpDTMF merges key presses from RFC 4733 and SIP INFO (in-band tones
// arrive through the detector's handler on the media goroutine).
func (c *call) pumpDTMF(ctx context.Context) error {
	for {
		select {
		case d := <-c.sess.DTMF():
			c.press(d)
		case b := <-c.ic.InfoDTMF():
			c.press(media.DTMF{Digit: b, Source: media.DTMFRFC4733, At: time.Now()})
		case <-ctx.Done():
			return errCallOver
		}
	}
}

// press takes one key press from any path: the merger drops the second
// sighting of a press that came both ways; a new press is queued for the
// flow and stops the prompt (barge-in). Queued first, stopped second: a
// prompt stopped before its key was queued could end and let the flow
// start the next one (Play saw no key), which then played whole (a CI run
// of TestObserverSeesCalls answered a key after the 6.5 s menu prompt).
func (c *call) press(d media.DTMF) {
	if !c.merger.Add(d) {
		return
	}
	c.turnEnded(InputDTMF, d.At)
	select {
	case c.digits <- d:
	default:
		c.log.Warn("key press dropped: flow is not reading keys")
	}
	c.stopPrompt()
}

// watchRemote applies re-INVITE changes (hold, resume, new address).
func (c *call) watchRemote(ctx context.Context) error {
	for {
		select {
		case <-c.ic.MediaChanged():
			c.applyRemote(c.ic.Remote())
		case <-ctx.Done():
			return errCallOver
		}
	}
}

func (c *call) applyRemote(m *sip.Media) {
	c.rekeySRTP()
	if !m.Addr.IsUnspecified() {
		c.sess.SetRemote(m.RTPAddr())
	}
	c.sess.SetDirection(!m.OnHold(), m.Direction.Sends())
}

// Info implements Call.
func (c *call) Info() CallInfo { return c.info }

// Log implements Call.
func (c *call) Log() *slog.Logger { return c.log }

// Digits implements Call.
func (c *call) Digits() <-chan media.DTMF { return c.digits }

// Play implements Call. A key press queued before Play starts counts as a
// barge-in at once (type-ahead), so callers who know the menu aren't made
// to listen to it.
func (c *call) Play(ctx context.Context, names ...string) (bool, error) {
	clips, err := c.srv.prompts.Clips(names...)
	if err != nil {
		return false, fmt.Errorf("play: %w", err)
	}
	if len(c.digits) > 0 {
		return true, nil
	}
	p := prompts.NewPlayer(clips)
	c.player.Store(p)
	if len(c.digits) > 0 {
		// A key came in while the prompt was set up, and its press found
		// no prompt to stop: the caller has already answered.
		c.player.CompareAndSwap(p, nil)
		return true, nil
	}
	c.sess.SetSource(c.answering(p))
	defer c.player.CompareAndSwap(p, nil)
	select {
	case <-p.Done():
		return p.Interrupted(), nil
	case <-ctx.Done():
		p.Stop()
		return false, ctx.Err()
	}
}

// stopPrompt stops the prompt playing now, if any (barge-in).
func (c *call) stopPrompt() {
	if p := c.player.Load(); p != nil {
		p.Stop()
	}
}

// SetSource implements Bridgeable: the call's one outgoing RTP stream
// plays src from the next frame on (nil: silence), replacing any prompt.
func (c *call) SetSource(src media.Source) {
	c.stopPrompt()
	c.sess.SetSource(src)
}

// Tap implements Bridgeable: every frame received from the caller also
// goes to w (nil removes the tap). Any call of Tap ends the bot's speech
// recognition for the call: from then on the bridge has it.
func (c *call) Tap(w media.PCM16Writer) {
	c.listening.Store(false)
	c.turn.Store(nil)
	c.sink.speech.Store(nil)
	if w == nil {
		c.sink.tap.Store(nil)
		return
	}
	c.sink.tap.Store(&tapRef{w: w})
}

var _ Bridgeable = (*call)(nil)
