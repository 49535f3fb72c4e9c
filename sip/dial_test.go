package sip

import (
	"errors"
	"net/netip"
	"testing"
)

// TestDialAllowed: the server opens TCP/TLS connections (answers to a
// request whose connection has gone, in-dialog requests) only to loopback
// and trunk addresses — never to a host a request names. The check runs in
// the dialer's Control, before any packet is sent; this test calls it
// directly and sends nothing.
func TestDialAllowed(t *testing.T) {
	trunks := []netip.Prefix{netip.MustParsePrefix("198.51.100.0/28")}
	prod := dialAllowed(ServerConfig{Guard: &GuardConfig{Trunks: trunks}})
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:5060", true},
		{"[::1]:5060", true},
		{"198.51.100.7:5061", true},   // a trunk
		{"198.51.100.99:5060", false}, // outside the trunk prefix
		{"192.0.2.1:5060", false},     // a Via host a scanner named
		{"[2001:db8::1]:5060", false},
		{"[::ffff:198.51.100.7]:5060", true}, // a trunk as a mapped IPv6 address
		{"example.com:5060", false},          // never a name: the dialer sees addresses
	}
	for _, tt := range tests {
		err := prod(tt.addr)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, errDialRefused) {
			t.Errorf("%s: %v, want allowed=%t", tt.addr, err, tt.ok)
		}
	}
	// With no guard (no trunks) only loopback; LoopbackOnly ignores trunks.
	if err := dialAllowed(ServerConfig{})("198.51.100.7:5060"); !errors.Is(err, errDialRefused) {
		t.Errorf("no trunks configured: %v, want refused", err)
	}
	lo := dialAllowed(ServerConfig{LoopbackOnly: true, Guard: &GuardConfig{Trunks: trunks}})
	if err := lo("198.51.100.7:5060"); !errors.Is(err, errNotLoopback) {
		t.Errorf("LoopbackOnly with a trunk: %v, want refused", err)
	}
	if err := lo("127.0.0.1:5060"); err != nil {
		t.Errorf("LoopbackOnly, loopback: %v", err)
	}
}
