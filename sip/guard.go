package sip

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Guard defaults (docs/sipsec.md explains each choice).
const (
	DefaultSourceRate     = 20.0 // datagrams (or TCP reads) a second per source
	DefaultSourceBurst    = 60
	DefaultBanAfter       = 10 // failures within DefaultBanWindow
	DefaultBanWindow      = time.Minute
	DefaultBanTime        = 10 * time.Minute
	DefaultCallsPerSource = 10
	defaultMaxSources     = 65536 // tracked sources before idle ones are dropped
)

// DefaultTrunks are the sources taken without authentication by default:
// loopback only, so a fresh install answers local test calls and nothing
// else unauthenticated.
func DefaultTrunks() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// GuardConfig configures access control and abuse protection per source IP
// address. Zero numbers mean the defaults above.
type GuardConfig struct {
	// Trunks are the sources whose INVITEs are taken without
	// authentication. They are never banned, rate limited or capped per
	// source (the global call limit still applies).
	Trunks []netip.Prefix
	// Rate and Burst are the token bucket of every other source, in
	// datagrams (UDP) or reads (TCP) a second. Over the rate a packet is
	// dropped unanswered and counts as a failure.
	Rate  float64
	Burst int
	// BanAfter failures (bad credentials, malformed or unauthorised
	// requests, packets over the rate) within BanWindow ban the source for
	// BanTime: its packets are dropped before SIP parsing and unanswered.
	BanAfter  int
	BanWindow time.Duration
	BanTime   time.Duration
	// CallsPerSource caps the concurrent calls of one non-trunk source.
	CallsPerSource int
	// Now is the clock (tests inject one); default time.Now.
	Now func() time.Time
	// MaxSources bounds the table of tracked sources (default 65536).
	MaxSources int
	// Log gets a line for each ban (default: none).
	Log *slog.Logger
}

// ParseTrunks parses a list of addresses and CIDR prefixes ("10.0.0.1",
// "192.0.2.0/24", "::1").
func ParseTrunks(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("sip trunk %q: want an IP address or CIDR prefix", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Validate fills defaults and rejects negative settings.
func (c *GuardConfig) Validate() error {
	if c.Rate < 0 || c.Burst < 0 || c.BanAfter < 0 || c.BanWindow < 0 || c.BanTime < 0 || c.CallsPerSource < 0 {
		return errors.New("sip guard: rate, burst, ban and per-source call settings must not be negative")
	}
	if c.Rate == 0 {
		c.Rate = DefaultSourceRate
	}
	if c.Burst == 0 {
		c.Burst = DefaultSourceBurst
	}
	if c.BanAfter == 0 {
		c.BanAfter = DefaultBanAfter
	}
	if c.BanWindow == 0 {
		c.BanWindow = DefaultBanWindow
	}
	if c.BanTime == 0 {
		c.BanTime = DefaultBanTime
	}
	if c.CallsPerSource == 0 {
		c.CallsPerSource = DefaultCallsPerSource
	}
	if c.MaxSources == 0 {
		c.MaxSources = defaultMaxSources
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Reject reasons counted in GuardStats.Rejected.
const (
	ReasonBanned        = "banned"         // dropped: source banned
	ReasonRateLimited   = "rate_limited"   // dropped: over the source's rate
	ReasonMalformed     = "malformed"      // not a SIP message, or a 4xx for bad syntax
	ReasonAuthRequired  = "auth_required"  // 401 challenge sent
	ReasonAuthFailed    = "auth_failed"    // 403: wrong or unknown credentials
	ReasonStaleNonce    = "stale_nonce"    // 401 stale=true
	ReasonForbidden     = "forbidden"      // 403: not a trunk and no authentication possible
	ReasonSourceCalls   = "source_calls"   // 486: per-source call cap
	ReasonNoDialog      = "no_dialog"      // 481 to a non-trunk source
	ReasonIntervalShort = "interval_brief" // 423 to a REGISTER
)

// source is what the guard knows of one address.
type source struct {
	tokens      float64
	refilled    time.Time
	fails       int
	failsSince  time.Time
	bannedUntil time.Time
	calls       int
	seen        time.Time
	authOK      time.Time // last successful authentication
}

// Guard tracks sources: trunk allowlist, rate limit, failures and bans,
// and concurrent calls. It is safe for concurrent use.
type Guard struct {
	cfg GuardConfig

	mu   sync.Mutex
	srcs map[netip.Addr]*source

	statMu   sync.Mutex
	rejected map[string]uint64
	requests atomic.Uint64
	bans     atomic.Uint64
	authOK   atomic.Uint64
	authFail atomic.Uint64
}

// NewGuard makes a guard; cfg is validated (defaults filled).
func NewGuard(cfg GuardConfig) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Guard{cfg: cfg, srcs: make(map[netip.Addr]*source), rejected: make(map[string]uint64)}, nil
}

// Trunk reports whether ip is on the trunk allowlist.
func (g *Guard) Trunk(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range g.cfg.Trunks {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// get returns ip's entry, creating it; g.mu is held.
func (g *Guard) get(ip netip.Addr, now time.Time) *source {
	s := g.srcs[ip]
	if s == nil {
		if len(g.srcs) >= g.cfg.MaxSources {
			g.sweep(now)
		}
		s = &source{tokens: float64(g.cfg.Burst), refilled: now}
		g.srcs[ip] = s
	}
	s.seen = now
	return s
}

// sweep forgets sources that are neither banned, in a call nor seen within
// a ban window; g.mu is held.
func (g *Guard) sweep(now time.Time) {
	for ip, s := range g.srcs {
		if s.calls == 0 && !now.Before(s.bannedUntil) && now.Sub(s.seen) > g.cfg.BanWindow {
			delete(g.srcs, ip)
		}
	}
}

// admit decides on one inbound packet (or TCP read) from ip before it is
// parsed: false drops it unanswered.
func (g *Guard) admit(ip netip.Addr) bool {
	g.requests.Add(1)
	if g.Trunk(ip) {
		return true
	}
	now := g.cfg.Now()
	g.mu.Lock()
	s := g.get(ip, now)
	if now.Before(s.bannedUntil) {
		g.mu.Unlock()
		g.count(ReasonBanned)
		return false
	}
	s.tokens += now.Sub(s.refilled).Seconds() * g.cfg.Rate
	s.refilled = now
	if max := float64(g.cfg.Burst); s.tokens > max {
		s.tokens = max
	}
	ok := s.tokens >= 1
	banned := false
	if ok {
		s.tokens--
	} else {
		banned = g.failLocked(s, now)
	}
	g.mu.Unlock()
	if !ok {
		g.count(ReasonRateLimited)
		g.logBan(ip, banned, ReasonRateLimited)
	}
	return ok
}

// Banned reports whether ip is banned now.
func (g *Guard) Banned(ip netip.Addr) bool {
	ip = ip.Unmap()
	now := g.cfg.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.srcs[ip]
	return s != nil && now.Before(s.bannedUntil)
}

// Fail records a failure of ip for reason; enough of them ban it. Trunks
// are never banned, but the reason is counted.
func (g *Guard) Fail(ip netip.Addr, reason string) {
	g.count(reason)
	ip = ip.Unmap()
	if g.Trunk(ip) {
		return
	}
	now := g.cfg.Now()
	g.mu.Lock()
	banned := g.failLocked(g.get(ip, now), now)
	g.mu.Unlock()
	g.logBan(ip, banned, reason)
}

// failLocked counts a failure and bans at the threshold, reporting whether
// it did; g.mu is held.
func (g *Guard) failLocked(s *source, now time.Time) bool {
	if now.Before(s.bannedUntil) {
		return false
	}
	if now.Sub(s.failsSince) > g.cfg.BanWindow {
		s.fails, s.failsSince = 0, now
	}
	s.fails++
	if s.fails < g.cfg.BanAfter {
		return false
	}
	s.bannedUntil = now.Add(g.cfg.BanTime)
	s.fails = 0
	g.bans.Add(1)
	return true
}

// logBan logs a ban that just fell.
func (g *Guard) logBan(ip netip.Addr, banned bool, last string) {
	if banned {
		g.cfg.Log.Warn("sip source banned", "source", ip.String(), "for", g.cfg.BanTime,
			"failures", g.cfg.BanAfter, "last", last)
	}
}

// Succeeded clears ip's failures after it authenticated.
func (g *Guard) Succeeded(ip netip.Addr) {
	g.authOK.Add(1)
	ip = ip.Unmap()
	now := g.cfg.Now()
	g.mu.Lock()
	s := g.get(ip, now)
	s.fails, s.authOK = 0, now
	g.mu.Unlock()
}

// Challenged records that ip was sent a digest challenge: a failure,
// unless ip authenticated successfully within the ban window (a softphone
// or PBX placing many calls at once is challenged for each; a scanner
// never gets past the challenge).
func (g *Guard) Challenged(ip netip.Addr, reason string) {
	ip = ip.Unmap()
	now := g.cfg.Now()
	g.mu.Lock()
	s := g.srcs[ip]
	recent := s != nil && !s.authOK.IsZero() && now.Sub(s.authOK) <= g.cfg.BanWindow
	g.mu.Unlock()
	if recent {
		g.count(reason)
		return
	}
	g.Fail(ip, reason)
}

// AcquireCall takes one of ip's concurrent call slots; false when the
// source is at its cap. Trunks are not capped. Each true must be followed
// by one ReleaseCall.
func (g *Guard) AcquireCall(ip netip.Addr) bool {
	ip = ip.Unmap()
	if g.Trunk(ip) {
		return true
	}
	now := g.cfg.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.get(ip, now)
	if s.calls >= g.cfg.CallsPerSource {
		return false
	}
	s.calls++
	return true
}

// ReleaseCall gives back a slot AcquireCall took.
func (g *Guard) ReleaseCall(ip netip.Addr) {
	ip = ip.Unmap()
	if g.Trunk(ip) {
		return
	}
	g.mu.Lock()
	if s := g.srcs[ip]; s != nil && s.calls > 0 {
		s.calls--
	}
	g.mu.Unlock()
}

func (g *Guard) count(reason string) {
	g.statMu.Lock()
	g.rejected[reason]++
	g.statMu.Unlock()
}

// GuardStats is a snapshot of the guard's counters (docs/sipsec.md names
// the metrics they become).
type GuardStats struct {
	Requests     uint64            // packets and TCP reads inspected
	Rejected     map[string]uint64 // by reason (Reason* constants)
	BansActive   int               // sources banned now
	BansTotal    uint64            // bans since start
	AuthOK       uint64            // successful digest authentications
	AuthFailures uint64            // wrong or unknown credentials
	Sources      int               // sources tracked
}

// Stats returns a snapshot of the counters.
func (g *Guard) Stats() GuardStats {
	st := GuardStats{Requests: g.requests.Load(), BansTotal: g.bans.Load(),
		AuthOK: g.authOK.Load(), AuthFailures: g.authFail.Load(), Rejected: make(map[string]uint64)}
	g.statMu.Lock()
	for k, v := range g.rejected {
		st.Rejected[k] = v
	}
	g.statMu.Unlock()
	now := g.cfg.Now()
	g.mu.Lock()
	st.Sources = len(g.srcs)
	for _, s := range g.srcs {
		if now.Before(s.bannedUntil) {
			st.BansActive++
		}
	}
	g.mu.Unlock()
	return st
}

// addrIP is the IP of a socket address (zero when it has none).
func addrIP(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}
