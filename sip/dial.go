package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// errNotLoopback refuses a connection or DNS query a LoopbackOnly server
// would make to another host.
var errNotLoopback = errors.New("sip: loopback-only server: not connecting to a non-loopback address")

// errDialRefused refuses a TCP or TLS connection the server would open to
// an address that is neither loopback nor a trunk.
var errDialRefused = errors.New("sip: not connecting to an address that is not a trunk")

// dialOptions are the user agent options that bound the connections the
// server opens itself. sipgo opens a TCP or TLS connection to answer a
// request whose connection has gone — to the Via sent-by, a host the
// sender names (RFC 3261 §18.2.2) — and for in-dialog requests to a
// Contact. Left alone, that lets anyone make the public SIP port connect
// to any host. So the server dials streams only to loopback and trunk
// addresses (in-dialog requests of other callers go over their own
// connection: see duaFor). With ServerConfig.LoopbackOnly (tests) it also
// makes no DNS query and dials loopback only.
func dialOptions(cfg ServerConfig) []sipgo.UserAgentOption {
	allowed := dialAllowed(cfg)
	control := func(_, address string, _ syscall.RawConn) error {
		err := allowed(address)
		if errors.Is(err, errDialRefused) {
			cfg.Log.Warn("sip: refused to open a connection to a non-trunk address", "address", address)
		}
		return err
	}
	dialer := func(laddr net.Addr) net.Dialer {
		return net.Dialer{Timeout: 5 * time.Second, LocalAddr: laddr, Control: control}
	}
	tcp := &gosip.TransportTCP{DialerCreate: dialer}
	tlsT := &gosip.TransportTLS{TransportTCP: &gosip.TransportTCP{DialerCreate: dialer}}
	opts := []sipgo.UserAgentOption{
		// Replaces newUA's transport options: the logger goes again.
		sipgo.WithUserAgentTransportLayerOptions(gosip.WithTransportLayerLogger(cfg.Log.With("component", "sipgo")),
			gosip.WithTransportLayerTransports(gosip.TransportsConfig{TCP: tcp, TLS: tlsT})),
	}
	if cfg.LoopbackOnly {
		noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errNotLoopback
		}}
		opts = append(opts, sipgo.WithUserAgentDNSResolver(noDNS))
	}
	return opts
}

// dialAllowed is the check of a stream connection the server would open
// to address (ip:port, as the dialer's Control sees it, before any packet
// is sent): loopback, or a trunk unless LoopbackOnly.
func dialAllowed(cfg ServerConfig) func(address string) error {
	var trunks []netip.Prefix
	if cfg.Guard != nil && !cfg.LoopbackOnly {
		trunks = cfg.Guard.Trunks
	}
	return func(address string) error {
		ap, err := netip.ParseAddrPort(address)
		if err == nil && (ap.Addr().Unmap().IsLoopback() || inPrefixes(trunks, ap.Addr().Unmap())) {
			return nil
		}
		if cfg.LoopbackOnly {
			return fmt.Errorf("%w: %s", errNotLoopback, address)
		}
		return fmt.Errorf("%w: %s", errDialRefused, address)
	}
}

// inPrefixes reports whether a is in one of ps.
func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
