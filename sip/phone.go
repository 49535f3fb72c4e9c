package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// PhoneConfig configures a Phone.
type PhoneConfig struct {
	Transport string // "udp" (default), "tcp" or "tls"
	// TLS is the client TLS configuration for "tls" (ClientTLS); nil
	// trusts the system roots.
	TLS       *tls.Config
	Local     string // host:port to receive in-dialog requests on; default 127.0.0.1:0
	From      string // user part of our From URI (a caller number)
	UserAgent string
	Log       *slog.Logger
	// AuthUser and AuthPassword answer digest challenges (401/407) to
	// INVITE and REGISTER; AuthUser defaults to From.
	AuthUser, AuthPassword string
}

// Phone is a SIP user agent client: it places calls and takes the in-dialog
// requests (BYE) that come back. One Phone carries many concurrent calls.
type Phone struct {
	cfg    PhoneConfig
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	cache  *sipgo.DialogClientCache
	conn   net.PacketConn
	ln     net.Listener
	host   string
	port   int

	mu    sync.Mutex
	calls map[string]*OutboundCall // by Call-ID
	done  chan struct{}
	wg    sync.WaitGroup
}

// NewPhone binds the phone's signaling socket and starts serving it.
func NewPhone(cfg PhoneConfig) (*Phone, error) {
	cfg.Transport = strings.ToLower(cfg.Transport)
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	if cfg.Transport != "udp" && cfg.Transport != "tcp" && cfg.Transport != "tls" {
		return nil, fmt.Errorf("sip: transport %q: want udp, tcp or tls", cfg.Transport)
	}
	if cfg.Local == "" {
		cfg.Local = "127.0.0.1:0"
	}
	if cfg.From == "" {
		cfg.From = "tester"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "ivr-call"
	}
	p := &Phone{cfg: cfg, log: cfg.Log, calls: make(map[string]*OutboundCall), done: make(chan struct{})}
	var err error
	var local net.Addr
	if cfg.Transport == "tls" {
		local = phoneTLSLocal(cfg.Local)
	} else if cfg.Transport == "udp" {
		if p.conn, err = net.ListenPacket("udp", cfg.Local); err != nil {
			return nil, fmt.Errorf("sip: phone listen: %w", err)
		}
		local = p.conn.LocalAddr()
	} else {
		if p.ln, err = net.Listen("tcp", cfg.Local); err != nil {
			return nil, fmt.Errorf("sip: phone listen: %w", err)
		}
		local = p.ln.Addr()
	}
	host, port, _ := net.SplitHostPort(local.String())
	p.host = host
	p.port, _ = strconv.Atoi(port)
	if err := p.start(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Phone) start() error {
	var err error
	if p.ua, err = newUA(p.cfg.UserAgent, p.log, phoneUAOptions(p.cfg)...); err != nil {
		return fmt.Errorf("sip: phone: %w", err)
	}
	if p.srv, err = sipgo.NewServer(p.ua, sipgo.WithServerLogger(p.log)); err != nil {
		return fmt.Errorf("sip: phone: %w", err)
	}
	opts := []sipgo.ClientOption{sipgo.WithClientHostname(p.host), sipgo.WithClientLogger(p.log),
		sipgo.WithClientConnectionAddr(p.sendAddr())}
	if p.client, err = sipgo.NewClient(p.ua, opts...); err != nil {
		return fmt.Errorf("sip: phone: %w", err)
	}
	contact := gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: p.cfg.From, Host: p.host, Port: p.port}}
	if p.cfg.Transport != "udp" {
		contact.Address.UriParams = gosip.NewParams()
		contact.Address.UriParams.Add("transport", p.cfg.Transport)
	}
	p.cache = sipgo.NewDialogClientCache(p.client, contact)
	p.srv.OnBye(p.onBye)
	p.srv.OnInvite(func(req *gosip.Request, tx gosip.ServerTransaction) {
		// We take no calls; a re-INVITE from the far end is not supported.
		res := gosip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
		_ = tx.Respond(res)
	})
	p.srv.OnOptions(func(req *gosip.Request, tx gosip.ServerTransaction) {
		_ = tx.Respond(gosip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	serving := &readingConn{PacketConn: p.conn, reading: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		switch {
		case p.conn != nil:
			_ = p.srv.ServeUDP(serving)
		case p.ln != nil:
			_ = p.srv.ServeTCP(p.ln)
		}
	}()
	if p.conn != nil {
		<-serving.reading // sipgo knows the socket: requests go out from it
	}
	return nil
}

// LocalHost is the host the phone's sockets are bound to.
func (p *Phone) LocalHost() string { return p.host }

// Close hangs up nothing; it stops the phone's signaling. Hang up calls first.
func (p *Phone) Close() error {
	select {
	case <-p.done:
		return nil
	default:
		close(p.done)
	}
	if p.ua != nil {
		p.ua.Close()
	}
	if p.conn != nil {
		p.conn.Close()
	}
	if p.ln != nil {
		p.ln.Close()
	}
	p.wg.Wait()
	return nil
}

func (p *Phone) onBye(req *gosip.Request, tx gosip.ServerTransaction) {
	if err := p.cache.ReadBye(req, tx); err != nil {
		_ = tx.Respond(gosip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	p.mu.Lock()
	c := p.calls[callID(req)]
	p.mu.Unlock()
	if c != nil {
		c.cancel(ErrRemoteHangup)
	}
}

// Progress reports a provisional response while a call is set up.
type Progress func(code int, reason string)

// Dial places a call to target (a SIP URI; "sip:" may be left out) offering
// local, and returns once it is answered and ACKed. A refused call returns a
// *StatusError with the far end's status; cancelling ctx before the answer
// sends CANCEL.
func (p *Phone) Dial(ctx context.Context, target string, local LocalMedia, progress Progress) (*OutboundCall, error) {
	if !strings.HasPrefix(target, "sip:") && !strings.HasPrefix(target, "sips:") {
		target = "sip:" + target
	}
	var uri gosip.Uri
	if err := gosip.ParseUri(target, &uri); err != nil {
		return nil, fmt.Errorf("sip: target %q: %w", target, err)
	}
	if p.cfg.Transport != "udp" {
		if uri.UriParams == nil {
			uri.UriParams = gosip.NewParams()
		}
		uri.UriParams.Add("transport", p.cfg.Transport)
	}
	origin := NewOrigin()
	body, err := origin.Marshal(local, nil)
	if err != nil {
		return nil, err
	}
	from := &gosip.FromHeader{Address: gosip.Uri{Scheme: "sip", User: p.cfg.From, Host: p.host, Port: p.port},
		Params: gosip.NewParams()}
	from.Params.Add("tag", gosip.GenerateTagN(16))
	ctype := gosip.ContentTypeHeader("application/sdp")
	d, err := p.cache.Invite(ctx, uri, body, from, &ctype)
	if err != nil {
		return nil, fmt.Errorf("sip: invite: %w", err)
	}
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.authUser(), Password: p.cfg.AuthPassword, OnResponse: func(res *gosip.Response) error {
		if progress != nil && res.IsProvisional() {
			progress(res.StatusCode, res.Reason)
		}
		return nil
	}})
	if err != nil {
		d.Close()
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return nil, responseError(de.Res)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sip: call cancelled: %w", context.Cause(ctx))
		}
		return nil, fmt.Errorf("sip: waiting for answer: %w", err)
	}
	answer, err := ParseSDP(d.InviteResponse.Body())
	if err != nil {
		_ = d.Ack(ctx)
		_ = d.Bye(ctx)
		d.Close()
		return nil, fmt.Errorf("sip: answer SDP: %w", err)
	}
	// Register the call before the ACK: the far end may send BYE as soon
	// as it has the ACK, and that BYE must find the call.
	c := &OutboundCall{ID: callID(d.InviteRequest), Answer: answer, phone: p, dialog: d, origin: origin}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	p.mu.Lock()
	p.calls[c.ID] = c
	p.mu.Unlock()
	if err := d.Ack(ctx); err != nil {
		c.cancel(err)
		p.forget(c.ID)
		d.Close()
		return nil, fmt.Errorf("sip: ack: %w", err)
	}
	return c, nil
}

func responseError(res *gosip.Response) *StatusError {
	se := &StatusError{Code: res.StatusCode, Reason: res.Reason}
	if w := res.GetHeader("Warning"); w != nil {
		se.Warning = warningText(w.Value())
	}
	if ra := res.GetHeader("Retry-After"); ra != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(strings.Split(ra.Value(), ";")[0])); err == nil {
			se.RetryAfter = secondsDuration(n)
		}
	}
	return se
}

// OutboundCall is a call the Phone placed and the far end answered.
type OutboundCall struct {
	ID     string
	Answer *Media // the far end's SDP answer

	phone  *Phone
	dialog *sipgo.DialogClientSession
	origin *Origin
	ctx    context.Context
	cancel context.CancelCauseFunc
	once   sync.Once
}

// Context is done when the call ended; its cause is ErrRemoteHangup when the
// far end sent BYE, ErrLocalHangup after Hangup.
func (c *OutboundCall) Context() context.Context { return c.ctx }

// Hangup sends BYE (once) and waits for its response.
func (c *OutboundCall) Hangup(ctx context.Context) error {
	var err error
	c.once.Do(func() {
		remote := context.Cause(c.ctx) == ErrRemoteHangup
		c.cancel(ErrLocalHangup)
		if !remote {
			err = c.dialog.Bye(ctx)
		}
		c.dialog.Close()
		c.phone.forget(c.ID)
	})
	if err != nil {
		return fmt.Errorf("sip: bye: %w", err)
	}
	return nil
}

// Reinvite sends a re-INVITE offering local (e.g. Direction SendOnly to put
// the far end on hold, SendRecv to resume) and ACKs the answer it returns.
func (c *OutboundCall) Reinvite(ctx context.Context, local LocalMedia) (*Media, error) {
	body, err := c.origin.Marshal(local, nil)
	if err != nil {
		return nil, err
	}
	target := c.dialog.InviteResponse.Contact()
	if target == nil {
		return nil, fmt.Errorf("sip: re-INVITE: answer had no Contact")
	}
	req := gosip.NewRequest(gosip.INVITE, target.Address)
	req.SetBody(body)
	ctype := gosip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ctype)
	res, err := c.dialog.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sip: re-INVITE: %w", err)
	}
	if !res.IsSuccess() {
		return nil, responseError(res)
	}
	ack := gosip.NewRequest(gosip.ACK, target.Address)
	if err := c.dialog.WriteRequest(ack); err != nil {
		return nil, fmt.Errorf("sip: re-INVITE ACK: %w", err)
	}
	answer, err := ParseSDP(res.Body())
	if err != nil {
		return nil, fmt.Errorf("sip: re-INVITE answer: %w", err)
	}
	return answer, nil
}

// warningText is the quoted text of a Warning header value
// (RFC 3261 §20.43: warn-code SP warn-agent SP quoted-string).
func warningText(v string) string {
	if i := strings.IndexByte(v, '"'); i >= 0 {
		if j := strings.LastIndexByte(v, '"'); j > i {
			return strings.ReplaceAll(v[i+1:j], `\"`, `"`)
		}
	}
	return strings.TrimSpace(v)
}

func (p *Phone) forget(id string) {
	p.mu.Lock()
	delete(p.calls, id)
	p.mu.Unlock()
}
