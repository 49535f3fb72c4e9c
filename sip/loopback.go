package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// loopbackOnly are the user agent options of ServerConfig.LoopbackOnly: no
// DNS query at all, and TCP connections (sipgo opens one to answer a
// request whose connection has gone, to the Via sent-by, RFC 3261
// §18.2.2) only to loopback addresses.
func loopbackOnly(log *slog.Logger) []sipgo.UserAgentOption {
	control := func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().IsLoopback() {
			return fmt.Errorf("%w: %s", errNotLoopback, address)
		}
		return nil
	}
	tcp := &gosip.TransportTCP{DialerCreate: func(laddr net.Addr) net.Dialer {
		return net.Dialer{Timeout: 5 * time.Second, LocalAddr: laddr, Control: control}
	}}
	noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errNotLoopback
	}}
	return []sipgo.UserAgentOption{
		sipgo.WithUserAgentDNSResolver(noDNS),
		// Replaces newUA's transport options: the logger goes again.
		sipgo.WithUserAgentTransportLayerOptions(gosip.WithTransportLayerLogger(log.With("component", "sipgo")),
			gosip.WithTransportLayerTransports(gosip.TransportsConfig{TCP: tcp})),
	}
}
