package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// Reasons a call ended, as the cause of its context.
var (
	ErrRemoteHangup = errors.New("sip: caller hung up")
	ErrLocalHangup  = errors.New("sip: hung up by us")
	ErrCanceled     = errors.New("sip: caller cancelled before answer")
)

// ackTimeout is how long a 2xx is retransmitted without an ACK before the
// call is given up (64*T1, RFC 3261 §13.3.1.4).
const ackTimeout = 64 * 500 * time.Millisecond

// byeWait bounds how long a call's end waits for the far end to confirm BYE.
const byeWait = 4 * time.Second

type callState uint8

const (
	stateOffered callState = iota
	stateAnswered
	stateRejected
	stateEnded
)

// InboundCall is one call placed to us: a server INVITE dialog. Its
// methods are safe for concurrent use.
type InboundCall struct {
	ID        string // Call-ID
	From      string // user part of the From URI (the caller's number)
	To        string // user part of the To URI (the number dialled)
	FromURI   string
	Source    string // host:port the INVITE came from
	Transport string // "UDP" or "TCP"
	Offer     *Media // the caller's media offer

	srv      *Server
	dialog   *sipgo.DialogServerSession
	inviteTx gosip.ServerTransaction // the INVITE's transaction, for a failure response
	log      *slog.Logger
	origin   *Origin
	ctx      context.Context
	cancel   context.CancelCauseFunc

	mu      sync.Mutex
	state   callState
	codec   Format
	event   *Format
	local   LocalMedia
	remote  *Media
	acks    map[uint32]chan struct{}
	acked   chan struct{} // closed once our 2xx to the INVITE is ACKed
	changed chan struct{}
	dtmf    chan byte
	sdes    *SDES // SRTP keys; nil for plain RTP (sdes.go)
}

func newInboundCall(s *Server, req *gosip.Request, d *sipgo.DialogServerSession, offer *Media) *InboundCall {
	c := &InboundCall{
		ID: callID(req), Source: req.Source(), Transport: strings.ToUpper(req.Transport()), Offer: offer,
		srv: s, dialog: d, origin: NewOrigin(), remote: offer,
		acks: make(map[uint32]chan struct{}), acked: make(chan struct{}), changed: make(chan struct{}, 1), dtmf: make(chan byte, 16),
	}
	if f := req.From(); f != nil {
		c.From, c.FromURI = f.Address.User, f.Address.String()
	}
	if t := req.To(); t != nil {
		c.To = t.Address.User
	}
	c.log = s.log.With("call_id", c.ID)
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	context.AfterFunc(d.Context(), func() {
		cause := context.Cause(d.Context())
		switch {
		case errors.Is(cause, gosip.ErrTransactionCanceled):
			cause = ErrCanceled
		case cause == nil || errors.Is(cause, context.Canceled):
			cause = ErrRemoteHangup
		}
		c.cancel(cause)
	})
	return c
}

// Context is done when the call has ended, whoever ended it;
// context.Cause tells why (ErrRemoteHangup, ErrCanceled, ErrShuttingDown,
// ErrLocalHangup).
func (c *InboundCall) Context() context.Context { return c.ctx }

// Log is the call's logger, carrying its call_id.
func (c *InboundCall) Log() *slog.Logger { return c.log }

// Ringing sends 180 Ringing.
func (c *InboundCall) Ringing() error {
	return c.dialog.Respond(180, "Ringing", nil)
}

// Negotiated returns the codec and telephone-event format chosen from the offer.
func (c *InboundCall) Negotiated() (codec Format, event *Format) {
	codec, event, _ = Negotiate(c.Offer, c.srv.cfg.Codecs)
	return codec, event
}

// Answer sends 200 OK with an SDP answer describing local and waits for the
// ACK. local.Formats may be left empty: the negotiated codec and
// telephone-event are then used.
func (c *InboundCall) Answer(local LocalMedia) error {
	c.mu.Lock()
	if c.state != stateOffered {
		c.mu.Unlock()
		return ErrAlreadyAnswered
	}
	if len(local.Formats) == 0 {
		codec, event := c.Negotiated()
		c.codec, c.event = codec, event
		local.Formats = []Format{codec}
		if event != nil {
			local.Formats = append(local.Formats, *event)
		}
	}
	local.Direction = c.Offer.Direction.Reverse()
	local.Crypto = c.sdes.answerCrypto()
	body, err := c.origin.Marshal(local, c.Offer)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	c.local, c.state = local, stateAnswered
	c.mu.Unlock()

	done := make(chan error, 1)
	go func() { done <- c.dialog.RespondSDP(body) }() // retransmits until ACK
	timer := time.NewTimer(ackTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			c.cancel(fmt.Errorf("%w: answer: %v", ErrCallEnded, err))
			return fmt.Errorf("sip: answer: %w", err)
		}
		close(c.acked)
		c.log.Debug("call answered", "codec", local.Formats[0].Name)
		return nil
	case <-timer.C:
		err = errNoAck
	case <-c.ctx.Done():
		err = context.Cause(c.ctx)
	}
	// Stop sipgo's retransmission loop, which only ends on a dialog state change.
	_ = c.dialog.ReadAck(c.dialog.InviteRequest, nil)
	<-done
	if errors.Is(err, ErrCanceled) {
		// The INVITE was cancelled and answered 487 by the transaction
		// layer: there is no dialog to end.
		c.mu.Lock()
		c.state = stateEnded
		c.mu.Unlock()
		return fmt.Errorf("sip: answer: %w", err)
	}
	if errors.Is(err, errNoAck) {
		c.log.Warn("no ACK for our 200 OK; ending the call", "waited", ackTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), byeWait)
	defer cancel()
	c.Hangup(ctx)
	return fmt.Errorf("sip: answer: %w", err)
}

// Reject ends an unanswered call with the final response for err (see
// StatusError; plain errors map to a status in one place, statusFor).
func (c *InboundCall) Reject(err error) error {
	c.mu.Lock()
	if c.state != stateOffered {
		c.mu.Unlock()
		return ErrAlreadyAnswered
	}
	c.state = stateRejected
	c.mu.Unlock()
	st := statusFor(err)
	c.log.Info("call rejected", "status", st.Code, "reason", st.Error())
	rerr := c.respondFailure(st)
	c.cancel(err)
	return rerr
}

// respondFailure sends a final failure response to the INVITE. Unlike
// sipgo's DialogServerSession.Respond it does not wait for the ACK: the
// transaction layer retransmits the response and absorbs the ACK on its
// own, so a caller that never ACKs cannot hold the call (its handler, its
// place in Calls, a shutdown) for Timer H, 32 s (found by FuzzServer).
func (c *InboundCall) respondFailure(st *StatusError) error {
	if c.inviteTx == nil {
		return c.dialog.Respond(st.Code, st.Reason, nil, st.headers()...)
	}
	select {
	case <-c.inviteTx.Done():
		return c.inviteTx.Err() // cancelled meanwhile: answered 487 already
	default:
	}
	res := gosip.NewResponseFromRequest(c.dialog.InviteRequest, st.Code, st.Reason, nil)
	for _, h := range st.headers() {
		res.AppendHeader(h)
	}
	return c.inviteTx.Respond(res)
}

// Hangup ends the call: BYE when answered, 480 when not yet answered. It is
// idempotent and returns once the far end confirmed the BYE, or after
// byeWait (the BYE transaction itself goes on retransmitting).
func (c *InboundCall) Hangup(ctx context.Context) error {
	c.mu.Lock()
	state := c.state
	if state == stateAnswered {
		c.state = stateEnded
	}
	c.mu.Unlock()
	switch state {
	case stateOffered:
		if errors.Is(context.Cause(c.ctx), ErrCanceled) {
			return nil // already answered 487 by the transaction layer
		}
		return c.Reject(&StatusError{Code: 480, Reason: "Temporarily Unavailable"})
	case stateAnswered:
	default:
		return nil
	}
	c.cancel(ErrLocalHangup)
	ctx, cancel := context.WithTimeout(ctx, byeWait)
	defer cancel()
	if err := c.dialog.Bye(ctx); err != nil {
		c.log.Info("BYE not confirmed", "error", err)
		return fmt.Errorf("sip: bye: %w", err)
	}
	return nil
}

// Remote returns the far end's current media description (the offer, or
// the latest re-INVITE offer).
func (c *InboundCall) Remote() *Media {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remote
}

// MediaChanged signals after a re-INVITE or UPDATE changed the far end's
// media (address, hold); read Remote for the new state.
func (c *InboundCall) MediaChanged() <-chan struct{} { return c.changed }

// InfoDTMF delivers digits sent as SIP INFO (application/dtmf-relay).
func (c *InboundCall) InfoDTMF() <-chan byte { return c.dtmf }

// finish runs when the handler returns: whatever state the call is in, it
// is ended and its resources released.
func (c *InboundCall) finish() {
	ctx, cancel := context.WithTimeout(context.Background(), byeWait)
	defer cancel()
	c.Hangup(ctx)
	c.cancel(ErrLocalHangup)
	c.dialog.Close()
}

// terminate asks the handler to end the call (server shutdown).
func (c *InboundCall) terminate(cause error) { c.cancel(cause) }

func (c *InboundCall) readAck(req *gosip.Request, tx gosip.ServerTransaction) {
	seq := req.CSeq().SeqNo
	c.mu.Lock()
	ch := c.acks[seq]
	delete(c.acks, seq)
	c.mu.Unlock()
	if ch != nil {
		close(ch)
		return
	}
	if err := c.dialog.ReadAck(req, tx); err != nil {
		c.log.Debug("stray ACK", "cseq", seq, "error", err)
	}
}

func (c *InboundCall) readBye(req *gosip.Request, tx gosip.ServerTransaction) {
	c.mu.Lock()
	c.state = stateEnded
	c.mu.Unlock()
	c.cancel(ErrRemoteHangup)
	if err := c.dialog.ReadBye(req, tx); err != nil {
		c.srv.respondErr(req, tx, err)
	}
}

func (c *InboundCall) readUpdate(req *gosip.Request, tx gosip.ServerTransaction) {
	if len(req.Body()) > 0 && !c.waitAcked() {
		c.srv.respond(req, tx, 491, "Request Pending", nil)
		return
	}
	if err := c.dialog.ReadRequest(req, tx); err != nil {
		c.srv.respond(req, tx, 500, "Server Internal Error", nil, gosip.NewHeader("Retry-After", "1"))
		return
	}
	if len(req.Body()) == 0 {
		c.srv.respond(req, tx, 200, "OK", nil) // session refresh (RFC 4028)
		return
	}
	res, offer, err := c.answerOffer(req)
	if err != nil {
		c.srv.respondErr(req, tx, err)
		return
	}
	if err := tx.Respond(res); err != nil {
		c.log.Debug("UPDATE response failed", "error", err)
		return
	}
	c.setRemote(offer)
}

// readReinvite answers a re-INVITE (RFC 3261 §14.2): hold, resume, a new
// address, or an offerless session refresh.
func (c *InboundCall) readReinvite(req *gosip.Request, tx gosip.ServerTransaction) {
	if !c.waitAcked() {
		c.srv.respond(req, tx, 491, "Request Pending", nil)
		return
	}
	if err := c.dialog.ReadRequest(req, tx); err != nil {
		c.srv.respond(req, tx, 500, "Server Internal Error", nil, gosip.NewHeader("Retry-After", "1"))
		return
	}
	res, offer, err := c.answerOffer(req)
	if err != nil {
		c.srv.respondErr(req, tx, err)
		return
	}
	if !c.send2xx(req, tx, res) {
		c.log.Info("no ACK for re-INVITE 2xx; hanging up")
		c.Hangup(context.Background())
		return
	}
	if offer != nil {
		c.setRemote(offer)
	}
}

// pendingAckWait is how long a new offer waits for the ACK of our 2xx.
const pendingAckWait = 2 * time.Second

// waitAcked holds a new offer until the INVITE's 2xx has been ACKed. sipgo
// handles each message on its own goroutine, so a re-INVITE sent right after
// the ACK can be processed first; taking it then would raise the dialog's
// CSeq and make the late ACK look stale. If the ACK doesn't come, the offer
// gets 491 (RFC 3261 §14.2) and the caller retries.
func (c *InboundCall) waitAcked() bool {
	t := time.NewTimer(pendingAckWait)
	defer t.Stop()
	select {
	case <-c.acked:
		return true
	case <-t.C:
	case <-c.ctx.Done():
	}
	return false
}

// answerOffer builds the 2xx for a re-INVITE or UPDATE. Without a body we
// offer our current description (the answer comes in the ACK).
func (c *InboundCall) answerOffer(req *gosip.Request) (*gosip.Response, *Media, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	local := c.local
	var offer *Media
	if len(req.Body()) > 0 {
		var err error
		if offer, err = ParseSDP(req.Body()); err != nil {
			return nil, nil, err
		}
		formats, err := c.keepCodec(offer)
		if err != nil {
			return nil, nil, err
		}
		if local.Crypto, err = c.reofferSRTP(req, offer); err != nil {
			return nil, nil, err
		}
		local.Formats = formats
		local.Direction = offer.Direction.Reverse()
		if offer.Addr.IsUnspecified() && local.Direction.Sends() {
			local.Direction = RecvOnly // RFC 2543 hold: c=0.0.0.0
			if offer.Direction == Inactive || offer.Direction == RecvOnly {
				local.Direction = Inactive
			}
		}
		c.local = local
	} else {
		local.Direction = SendRecv
	}
	body, err := c.origin.Marshal(local, offer)
	if err != nil {
		return nil, nil, err
	}
	res := gosip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(&c.srv.duaFor(req).ContactHDR)
	return res, offer, nil
}

// keepCodec checks a new offer still carries the codec in use (with
// possibly new payload types); changing codec mid-call is refused with 488.
func (c *InboundCall) keepCodec(offer *Media) ([]Format, error) {
	var out []Format
	for _, f := range offer.Formats {
		if strings.EqualFold(f.Name, c.codec.Name) && f.ClockRate == c.codec.ClockRate && len(out) == 0 {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: re-offer lacks %s", ErrNoCommonCodec, c.codec.Name)
	}
	if c.event != nil {
		for _, f := range offer.Formats {
			if strings.EqualFold(f.Name, "telephone-event") {
				out = append(out, f)
				break
			}
		}
	}
	return out, nil
}

// send2xx sends a 2xx to a re-INVITE and retransmits it (T1 doubling up to
// T2) until the matching ACK arrives (RFC 3261 §13.3.1.4).
func (c *InboundCall) send2xx(req *gosip.Request, tx gosip.ServerTransaction, res *gosip.Response) bool {
	seq := req.CSeq().SeqNo
	ack := make(chan struct{})
	c.mu.Lock()
	c.acks[seq] = ack
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.acks, seq)
		c.mu.Unlock()
	}()
	if err := tx.Respond(res); err != nil {
		return false
	}
	interval := gosip.T1
	retransmit := time.NewTimer(interval)
	defer retransmit.Stop()
	giveUp := time.NewTimer(ackTimeout)
	defer giveUp.Stop()
	for {
		select {
		case <-ack:
			return true
		case <-retransmit.C:
			if !strings.EqualFold(req.Transport(), "udp") {
				continue // reliable transports don't retransmit
			}
			if err := c.srv.srv.WriteResponse(res); err != nil {
				c.log.Debug("2xx retransmission failed", "error", err)
			}
			interval = min(2*interval, gosip.T2)
			retransmit.Reset(interval)
		case <-giveUp.C:
			return false
		case <-c.ctx.Done():
			return false
		}
	}
}

func (c *InboundCall) setRemote(m *Media) {
	c.mu.Lock()
	c.remote = m
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
	c.log.Info("media updated", "remote", m.RTPAddr().String(), "direction", m.Direction.String(), "hold", m.OnHold())
}
