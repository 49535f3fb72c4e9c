package sip

import (
	"net"
	"net/netip"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// security joins the guard, digest authentication and the registrar to
// the server. A server without ServerConfig.Guard takes every source's
// INVITE and has no registrar (the tests of other packages run so).
type security struct {
	guard *Guard
	auth  *authenticator // nil: non-trunk sources are refused
	reg   *registrar
	now   func() time.Time
}

// initSecurity builds the server's security from its config.
func (s *Server) initSecurity() error {
	if s.cfg.Guard == nil && s.cfg.Auth == nil {
		return nil
	}
	gc := GuardConfig{Trunks: DefaultTrunks()}
	if s.cfg.Guard != nil {
		gc = *s.cfg.Guard
	}
	if gc.Log == nil {
		gc.Log = s.log
	}
	g, err := NewGuard(gc)
	if err != nil {
		return err
	}
	sec := &security{guard: g, now: g.cfg.Now}
	if s.cfg.Auth != nil {
		ac := *s.cfg.Auth
		if ac.Now == nil {
			ac.Now = g.cfg.Now
		}
		if ac.Log == nil {
			ac.Log = s.log
		}
		if sec.auth, err = newAuthenticator(ac); err != nil {
			return err
		}
		sec.reg = newRegistrar(ac.Now, ac.MinExpires, ac.MaxExpires)
		s.srv.OnRegister(s.checked(s.onRegister))
	}
	s.sec = sec
	return nil
}

// guardConns wraps the listening sockets so the guard sees every packet
// before sipgo parses it.
func (s *Server) guardConns(udp net.PacketConn, tcp net.Listener) (net.PacketConn, net.Listener) {
	if s.sec == nil {
		return udp, tcp
	}
	return &guardedPacketConn{PacketConn: udp, g: s.sec.guard}, &guardedListener{Listener: tcp, g: s.sec.guard}
}

// GuardListener wraps another stream listener (e.g. SIP over TLS) with the
// server's guard; without a guard it returns ln.
func (s *Server) GuardListener(ln net.Listener) net.Listener {
	if s.sec == nil {
		return ln
	}
	return &guardedListener{Listener: ln, g: s.sec.guard}
}

// reqIP is the transport source address of a request.
func reqIP(req *gosip.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// admitInvite lets a new INVITE through when it comes from a trunk or
// carries good digest credentials, and its source is under its call cap.
// Otherwise it answers the INVITE itself. After ok, release must be called
// once the call is over.
func (s *Server) admitInvite(req *gosip.Request, tx gosip.ServerTransaction) (release func(), ok bool) {
	if s.sec == nil {
		return func() {}, true
	}
	g, ip := s.sec.guard, reqIP(req)
	if !g.Trunk(ip) {
		if _, ok := s.authenticate(req, tx, ip); !ok {
			return nil, false
		}
	}
	if !g.AcquireCall(ip) {
		g.count(ReasonSourceCalls)
		s.log.Info("call refused: per-source call limit", "call_id", callID(req), "from", ip)
		s.respond(req, tx, 486, "Busy Here", nil, warning("too many calls from this address")...)
		return nil, false
	}
	return func() { g.ReleaseCall(ip) }, true
}

// authenticate checks req's credentials and answers it when they do not
// do: 401 with a challenge when there are none or the nonce is stale, 403
// for anything wrong. An unknown user, a disabled one and a wrong password
// get the very same 403.
func (s *Server) authenticate(req *gosip.Request, tx gosip.ServerTransaction, ip netip.Addr) (string, bool) {
	g := s.sec.guard
	if s.sec.auth == nil {
		g.Fail(ip, ReasonForbidden)
		s.respond(req, tx, 403, "Forbidden", nil)
		return "", false
	}
	res, user := s.sec.auth.check(req, ip)
	switch res {
	case authOK:
		g.Succeeded(ip)
		return user, true
	case authNone:
		g.Challenged(ip, ReasonAuthRequired)
		s.respond(req, tx, 401, "Unauthorized", nil, s.sec.auth.challenges(ip, false)...)
	case authStale:
		g.Challenged(ip, ReasonStaleNonce)
		s.respond(req, tx, 401, "Unauthorized", nil, s.sec.auth.challenges(ip, true)...)
	default:
		g.authFail.Add(1)
		g.Fail(ip, ReasonAuthFailed)
		s.log.Info("sip auth failed", "method", req.Method.String(), "user", user, "from", ip)
		s.respond(req, tx, 403, "Forbidden", nil)
	}
	return "", false
}

// onRegister is the registrar (RFC 3261 §10.3): every REGISTER must carry
// good credentials for the user it registers.
func (s *Server) onRegister(req *gosip.Request, tx gosip.ServerTransaction) {
	ip := reqIP(req)
	user, ok := s.authenticate(req, tx, ip)
	if !ok {
		return
	}
	if to := req.To(); to == nil || to.Address.User != user {
		s.sec.guard.Fail(ip, ReasonAuthFailed)
		s.respond(req, tx, 403, "Forbidden", nil, warning("credentials do not match the To user")...)
		return
	}
	cs, all, rerr := s.sec.reg.changes(req)
	if rerr != nil {
		reason := ReasonMalformed
		if rerr.code == 423 {
			reason = ReasonIntervalShort
		}
		s.sec.guard.count(reason)
		s.respond(req, tx, rerr.code, rerr.reason, nil, rerr.hdrs...)
		return
	}
	bs := s.sec.reg.apply(user, cs, all)
	s.log.Debug("sip register", "user", user, "from", ip, "bindings", len(bs))
	s.respond(req, tx, 200, "OK", nil, contactHeaders(bs, s.sec.now())...)
}

// noteRefusal counts a refusal the server sent to a request as a failure
// of its source: malformed or unsupported requests and requests for
// dialogs that do not exist are what scanners send.
func (s *Server) noteRefusal(req *gosip.Request, code int) {
	if s.sec == nil {
		return
	}
	switch code {
	case 400, 405, 415, 420:
		s.sec.guard.Fail(reqIP(req), ReasonMalformed)
	case 481:
		s.sec.guard.Fail(reqIP(req), ReasonNoDialog)
	}
}

// Registrations returns user's registered contacts in force (none without
// a registrar).
func (s *Server) Registrations(user string) []Binding {
	if s.sec == nil || s.sec.reg == nil {
		return nil
	}
	return s.sec.reg.bindings(user)
}

// SecurityStats is a snapshot of the access-control counters.
type SecurityStats struct {
	GuardStats
	Registrations int // bindings in force
}

// SecurityStats returns the counters (zero without a guard).
func (s *Server) SecurityStats() SecurityStats {
	if s.sec == nil {
		return SecurityStats{GuardStats: GuardStats{Rejected: map[string]uint64{}}}
	}
	st := SecurityStats{GuardStats: s.sec.guard.Stats()}
	if s.sec.reg != nil {
		st.Registrations = s.sec.reg.count()
	}
	return st
}

// Guard returns the server's guard (nil without one), for tests and
// operators' tools.
func (s *Server) Guard() *Guard {
	if s.sec == nil {
		return nil
	}
	return s.sec.guard
}
