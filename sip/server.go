package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// allowed is the Allow header value: the methods the server implements.
const allowed = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"

// Handler takes new calls. HandleCall runs on its own goroutine per call
// and owns the call: it must answer or reject it and returns when the call
// is over. A call still up when HandleCall returns is hung up.
type Handler interface {
	HandleCall(call *InboundCall)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(call *InboundCall)

// HandleCall calls f(call).
func (f HandlerFunc) HandleCall(call *InboundCall) { f(call) }

// ServerConfig configures a Server.
type ServerConfig struct {
	// Addr is the host:port to listen on, for UDP and TCP alike. Port 0
	// picks a free port (the same for both transports).
	Addr string
	// Contact is the host written in our Contact header; it must be
	// reachable by callers. Defaults to the listen host.
	Contact string
	// Codecs are the audio codec names we accept, in our order of preference
	// when the offer leaves a choice (only the offer's order counts today).
	Codecs    []string
	UserAgent string
	Log       *slog.Logger
	// Guard enables access control (trunk allowlist, rate limit, bans,
	// per-source call cap; sip/guard.go). Nil with Auth nil: every source
	// may call, as in tests.
	Guard *GuardConfig
	// Auth enables digest authentication and the registrar for sources
	// that are not trunks (sip/auth.go).
	Auth *AuthConfig
	// TLSAddr is the host:port of a SIP over TLS listener (empty: none),
	// with the certificate in TLS (LoadServerTLS). See tls.go.
	TLSAddr string
	TLS     *tls.Config
	// SRTP is the policy for SDES-SRTP offers; SRTPInsecureSignalling also
	// takes SDES keys over UDP and TCP, where anyone on the path reads them.
	SRTP                   SRTPPolicy
	SRTPInsecureSignalling bool
	// LoopbackOnly keeps the server's own connections and DNS look-ups on
	// loopback (tests: torture and fuzz messages name other hosts).
	LoopbackOnly bool
}

// Server is a SIP user agent server on UDP and TCP.
type Server struct {
	cfg     ServerConfig
	log     *slog.Logger
	handler Handler

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	dua    *sipgo.DialogUA
	tcpDUA *sipgo.DialogUA // in-dialog requests over the caller's TCP connection

	udp    net.PacketConn
	tcp    net.Listener
	tlsLn  net.Listener    // nil without TLS (tls.go)
	tlsDUA *sipgo.DialogUA // Contact with transport=tls
	ready  chan struct{}
	sec    *security // nil: no access control

	draining atomic.Bool // Drain was called: OPTIONS and new INVITEs get 503

	mu      sync.Mutex
	calls   map[string]*InboundCall // by dialog id
	closing bool                    // Serve is ending: no new calls (under mu)
	wg      sync.WaitGroup          // call handlers; Add only under mu while !closing
}

// NewServer creates a server; ListenAndServe starts it.
func NewServer(cfg ServerConfig, h Handler) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = []string{"PCMU", "PCMA"}
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "ivr"
	}
	ua, err := newUA(cfg.UserAgent, cfg.Log, dialOptions(cfg)...)
	if err != nil {
		return nil, fmt.Errorf("sip: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(cfg.Log))
	if err != nil {
		return nil, fmt.Errorf("sip: server: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Log, handler: h, ua: ua, srv: srv, ready: make(chan struct{}),
		calls: make(map[string]*InboundCall)}
	srv.OnInvite(s.checked(s.onInvite))
	srv.OnAck(s.checked(s.onAck))
	srv.OnBye(s.checked(s.inDialog((*InboundCall).readBye)))
	srv.OnCancel(s.checked(s.onCancel))
	srv.OnOptions(s.checked(s.onOptions))
	srv.OnInfo(s.checked(s.inDialog((*InboundCall).readInfo)))
	srv.OnUpdate(s.checked(s.inDialog((*InboundCall).readUpdate)))
	srv.OnNoRoute(s.checked(s.onNoRoute))
	if err := s.initSecurity(); err != nil {
		return nil, err
	}
	return s, nil
}

// Listen binds the UDP and TCP sockets. It is separate from Serve so a
// caller can learn the bound address before traffic starts.
func (s *Server) Listen() error {
	host, port, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("sip: listen address %q: %w", s.cfg.Addr, err)
	}
	for attempt := 0; attempt < 20; attempt++ {
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return fmt.Errorf("sip: listen udp %s: %w", s.cfg.Addr, err)
		}
		_, bound, _ := net.SplitHostPort(udp.LocalAddr().String())
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, bound))
		if err != nil {
			udp.Close()
			if port == "0" {
				continue // the TCP twin of a random UDP port is taken; try another
			}
			return fmt.Errorf("sip: listen tcp %s: %w", s.cfg.Addr, err)
		}
		s.udp, s.tcp = s.guardConns(udp, tcp)
		if err := s.initClient(host, bound); err != nil {
			return err
		}
		return s.listenTLS(host)
	}
	return fmt.Errorf("sip: no port free for both UDP and TCP on %s", host)
}

func (s *Server) initClient(host, port string) error {
	contactHost := s.cfg.Contact
	if contactHost == "" {
		contactHost = host
	}
	if ip, err := netip.ParseAddr(contactHost); err == nil && ip.IsUnspecified() {
		contactHost = "127.0.0.1"
	}
	p, _ := strconv.Atoi(port)
	client, err := sipgo.NewClient(s.ua, sipgo.WithClientHostname(contactHost), sipgo.WithClientLogger(s.log))
	if err != nil {
		return fmt.Errorf("sip: client: %w", err)
	}
	s.client = client
	s.dua = &sipgo.DialogUA{Client: client, ContactHDR: gosip.ContactHeader{
		Address: gosip.Uri{Scheme: "sip", User: "ivr", Host: contactHost, Port: p},
	}}
	// Over TCP our in-dialog requests go back over the caller's own
	// connection (its source address), never a new one to its Contact:
	// the server opens stream connections to trunks only (dialOptions).
	s.tcpDUA = &sipgo.DialogUA{Client: client, ContactHDR: s.dua.ContactHDR, RewriteContact: true}
	return nil
}

// Addr returns the bound listen address (valid after Listen).
func (s *Server) Addr() net.Addr { return s.udp.LocalAddr() }

// Ready is closed once the server takes calls.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Serve runs the server until ctx is cancelled, then waits for every call
// handler to return. Listen must have been called.
func (s *Server) Serve(ctx context.Context) error {
	if s.udp == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	errc := make(chan error, 3)
	go func() { errc <- s.srv.ServeUDP(s.udp) }()
	go func() { errc <- s.srv.ServeTCP(s.tcp) }()
	s.serveTLS(errc)
	close(s.ready)
	s.log.Info("sip listening", "udp", s.udp.LocalAddr().String(), "tcp", s.tcp.Addr().String())
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("sip: serve: %w", err)
	}
	s.mu.Lock()
	s.closing = true // an INVITE in flight now gets 503, not a handler Wait misses
	s.mu.Unlock()
	s.hangupAll()
	s.wg.Wait()
	s.udp.Close()
	s.tcp.Close()
	s.closeTLS()
	s.ua.Close()
	return err
}

// hangupAll ends every call still up, politely.
func (s *Server) hangupAll() {
	s.mu.Lock()
	calls := make([]*InboundCall, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	for _, c := range calls {
		c.terminate(ErrShuttingDown)
	}
}

// Calls returns the number of calls in progress.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *Server) respond(req *gosip.Request, tx gosip.ServerTransaction, code int, reason string, body []byte, hdrs ...gosip.Header) {
	res := gosip.NewResponseFromRequest(req, code, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "call_id", callID(req), "status", code, "method", req.Method.String(), "error", err)
	}
}

func (s *Server) respondErr(req *gosip.Request, tx gosip.ServerTransaction, err error) {
	st := statusFor(err)
	s.noteRefusal(req, st.Code)
	s.respond(req, tx, st.Code, st.Reason, nil, st.headers()...)
}

// headers are the extra header fields a StatusError asks for.
func (e *StatusError) headers() []gosip.Header {
	var h []gosip.Header
	if e.RetryAfter > 0 {
		h = append(h, gosip.NewHeader("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds()))))
	}
	if e.Warning != "" {
		h = append(h, gosip.NewHeader("Warning", fmt.Sprintf("399 ivr %q", e.Warning)))
	}
	if e.Code == 405 {
		h = append(h, gosip.NewHeader("Allow", allowed))
	}
	return h
}

// Drain starts a graceful shutdown: calls in progress go on (in-dialog
// requests are served as before) while new INVITEs and OPTIONS get 503
// with Retry-After, so trunks that probe with OPTIONS route elsewhere.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) onOptions(req *gosip.Request, tx gosip.ServerTransaction) {
	if s.draining.Load() {
		s.respondErr(req, tx, ErrShuttingDown)
		return
	}
	s.respond(req, tx, 200, "OK", nil,
		gosip.NewHeader("Allow", allowed),
		gosip.NewHeader("Accept", "application/sdp"),
		gosip.NewHeader("Supported", ""))
}

func (s *Server) onNoRoute(req *gosip.Request, tx gosip.ServerTransaction) {
	s.respondErr(req, tx, &StatusError{Code: 405, Reason: "Method Not Allowed"})
}

func (s *Server) onCancel(req *gosip.Request, tx gosip.ServerTransaction) {
	// A CANCEL that matched a pending INVITE was answered by the transaction
	// layer (200, then 487 for the INVITE). Reaching here means no match.
	s.respondErr(req, tx, ErrNoDialog)
}

// lookup finds the call an in-dialog request belongs to.
func (s *Server) lookup(req *gosip.Request) *InboundCall {
	id, err := gosip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func (s *Server) onAck(req *gosip.Request, tx gosip.ServerTransaction) {
	if c := s.lookup(req); c != nil {
		c.readAck(req, tx)
	}
}

// inDialog adapts a request handler of a call to a sipgo handler: requests
// for a dialog we don't have get 481 (RFC 3261 §12.2.2).
func (s *Server) inDialog(read func(*InboundCall, *gosip.Request, gosip.ServerTransaction)) sipgo.RequestHandler {
	return func(req *gosip.Request, tx gosip.ServerTransaction) {
		c := s.lookup(req)
		if c == nil {
			s.respondErr(req, tx, ErrNoDialog)
			return
		}
		read(c, req, tx)
	}
}

func (s *Server) onInvite(req *gosip.Request, tx gosip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		c := s.lookup(req)
		if c == nil {
			s.respondErr(req, tx, ErrNoDialog)
			return
		}
		c.readReinvite(req, tx)
		return
	}
	release, ok := s.admitInvite(req, tx)
	if !ok {
		return
	}
	defer release()
	s.respond(req, tx, 100, "Trying", nil)
	if s.draining.Load() {
		s.respondErr(req, tx, ErrShuttingDown)
		return
	}
	if err := checkInvite(req); err != nil {
		s.respondErr(req, tx, err)
		return
	}
	offer, err := ParseSDP(req.Body())
	if err == nil {
		_, _, err = Negotiate(offer, s.cfg.Codecs)
	}
	var sdes *SDES
	if err == nil {
		sdes, err = s.negotiateSRTP(req, offer, nil, false)
	}
	if err != nil {
		s.log.Info("call refused", "call_id", callID(req), "from", req.Source(), "error", err)
		s.respondErr(req, tx, err)
		return
	}
	dialog, err := s.duaFor(req).ReadInvite(req, tx)
	if err != nil {
		s.respondErr(req, tx, &StatusError{Code: 400, Reason: "Bad Request", Warning: err.Error(), Err: err})
		return
	}
	c := newInboundCall(s, req, dialog, offer)
	c.sdes = sdes
	c.inviteTx = tx
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		s.respondErr(req, tx, ErrShuttingDown)
		return
	}
	s.calls[dialog.ID] = c
	s.wg.Add(1) // under mu: never concurrent with Serve's Wait
	s.mu.Unlock()
	defer s.wg.Done()
	defer s.forget(dialog.ID)
	defer c.finish()
	s.handler.HandleCall(c)
}

func (s *Server) forget(id string) {
	s.mu.Lock()
	delete(s.calls, id)
	s.mu.Unlock()
}

// checkInvite rejects INVITEs we cannot serve before a dialog is made.
func checkInvite(req *gosip.Request) error {
	if req.Contact() == nil {
		return &StatusError{Code: 400, Reason: "Bad Request", Warning: "missing Contact"}
	}
	if h := req.GetHeader("Require"); h != nil && strings.TrimSpace(h.Value()) != "" {
		return &StatusError{Code: 420, Reason: "Bad Extension", Warning: "unsupported: " + h.Value()}
	}
	if ct := req.ContentType(); ct != nil && !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/sdp") {
		return &StatusError{Code: 415, Reason: "Unsupported Media Type", Warning: "only application/sdp"}
	}
	return nil
}

func callID(req *gosip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

var errNoAck = errors.New("sip: no ACK for 2xx")

// newUA makes a sipgo user agent whose transport and transaction layers log
// through log (at debug level for their chatter) rather than sipgo's default.
func newUA(name string, log *slog.Logger, extra ...sipgo.UserAgentOption) (*sipgo.UserAgent, error) {
	l := log.With("component", "sipgo")
	return sipgo.NewUA(append([]sipgo.UserAgentOption{sipgo.WithUserAgent(name),
		sipgo.WithUserAgentTransportLayerOptions(gosip.WithTransportLayerLogger(l)),
		sipgo.WithUserAgentTransactionLayerOptions(gosip.WithTransactionLayerLogger(l))}, extra...)...)
}
