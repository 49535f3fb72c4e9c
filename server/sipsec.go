package server

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/supportline/ivr/sip"
)

// SIPSecurity is the access control of the SIP listener (docs/sipsec.md):
// trunk sources are taken without authentication; every other source
// must authenticate with SIP digest as a user of `ivr sipusers`, is rate
// limited and banned after repeated failures.
type SIPSecurity struct {
	Trunks         []netip.Prefix // sources taken without authentication
	Realm          string         // digest realm
	NonceTTL       time.Duration  // older nonces get 401 stale=true
	Rate           float64        // packets a second per non-trunk source
	Burst          int            // token bucket depth
	BanAfter       int            // failures within BanWindow that ban a source
	BanWindow      time.Duration
	BanTime        time.Duration
	CallsPerSource int // concurrent calls of one non-trunk source
}

// DefaultSIPSecurity trusts loopback only, so `make run` and local tests
// work unchanged and every other source must authenticate.
func DefaultSIPSecurity() SIPSecurity {
	return SIPSecurity{
		Trunks: sip.DefaultTrunks(), Realm: sip.DefaultRealm, NonceTTL: sip.DefaultNonceTTL,
		Rate: sip.DefaultSourceRate, Burst: sip.DefaultSourceBurst,
		BanAfter: sip.DefaultBanAfter, BanWindow: sip.DefaultBanWindow, BanTime: sip.DefaultBanTime,
		CallsPerSource: sip.DefaultCallsPerSource,
	}
}

// validate reports settings out of range.
func (c SIPSecurity) validate() []error {
	var errs []error
	if c.Rate <= 0 || c.Burst < 1 {
		errs = append(errs, fmt.Errorf("sip rate %g/s burst %d: want a positive rate and a burst of at least 1", c.Rate, c.Burst))
	}
	if c.BanAfter < 1 || c.BanWindow <= 0 || c.BanTime <= 0 {
		errs = append(errs, fmt.Errorf("sip ban after %d failures in %v for %v: want all positive", c.BanAfter, c.BanWindow, c.BanTime))
	}
	if c.CallsPerSource < 1 {
		errs = append(errs, fmt.Errorf("sip calls per source %d: want at least 1", c.CallsPerSource))
	}
	if c.NonceTTL < 10*time.Second {
		errs = append(errs, fmt.Errorf("sip nonce ttl %v: want at least 10s", c.NonceTTL))
	}
	if c.Realm == "" {
		errs = append(errs, fmt.Errorf("sip realm must be set"))
	}
	return errs
}

// WithSIPUsers lets softphones authenticate as the users of users (the
// store's `ivr sipusers`). Without it, sources that are not trunks are
// refused with 403.
func WithSIPUsers(users sip.DigestUsers) Option { return func(s *Server) { s.sipUsers = users } }

// sipSecurity adds the guard and digest authentication to the SIP
// server's configuration.
func (s *Server) sipSecurity(sc sip.ServerConfig) sip.ServerConfig {
	c := s.cfg.SIPSec
	sc.Guard = &sip.GuardConfig{Trunks: c.Trunks, Rate: c.Rate, Burst: c.Burst, BanAfter: c.BanAfter,
		BanWindow: c.BanWindow, BanTime: c.BanTime, CallsPerSource: c.CallsPerSource}
	if s.sipUsers != nil {
		sc.Auth = &sip.AuthConfig{Realm: c.Realm, Users: s.sipUsers, NonceTTL: c.NonceTTL}
	}
	return sc
}

// SIPStats returns the SIP access-control counters (for metrics).
func (s *Server) SIPStats() sip.SecurityStats { return s.sip.SecurityStats() }
