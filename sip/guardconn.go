package sip

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
)

// The guard sits below sipgo: the server hands sipgo wrapped sockets, so a
// banned or over-rate source costs one map lookup and no parsing, and gets
// no answer at all.

// guardedPacketConn drops datagrams the guard refuses before sipgo reads them.
type guardedPacketConn struct {
	net.PacketConn
	g *Guard
}

// ReadFrom returns the next datagram the guard admits.
func (c *guardedPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil {
			return n, addr, err
		}
		if c.g.inspect(addrIP(addr), b[:n]) {
			return n, addr, nil
		}
	}
}

// inspect admits one datagram: not banned, within the rate, and shaped like
// a SIP message (or a keep-alive). Garbage from a non-trunk source is a
// failure and dropped; a trunk's goes on to the parser, which reports it.
func (g *Guard) inspect(ip netip.Addr, b []byte) bool {
	if !g.admit(ip) {
		return false
	}
	if looksLikeSIP(b) || g.Trunk(ip) {
		return true
	}
	g.Fail(ip, ReasonMalformed)
	return false
}

// looksLikeSIP is a cheap check of a datagram's first line: a request line
// ending in SIP/2.0, a status line starting with it, or a CRLF keep-alive
// (RFC 5626 §3.5.1).
func looksLikeSIP(b []byte) bool {
	if len(bytes.Trim(b, "\r\n\x00 ")) == 0 {
		return true
	}
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	}
	line = bytes.TrimRight(line, "\r")
	return bytes.HasPrefix(line, []byte("SIP/2.0 ")) || bytes.HasSuffix(line, []byte(" SIP/2.0"))
}

// guardedListener closes connections from banned sources at accept and
// wraps the rest so that their reads are rate limited.
type guardedListener struct {
	net.Listener
	g *Guard
}

// Accept returns the next connection from a source that is not banned.
func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrIP(c.RemoteAddr())
		if l.g.admit(ip) {
			return &guardedConn{Conn: c, g: l.g, ip: ip}, nil
		}
		c.Close()
	}
}

// errBanned ends a stream connection whose source was banned or went over
// its rate.
var errBanned = errors.New("sip: source refused by the guard")

// guardedConn is one accepted stream connection. Each read takes a token
// from the source's bucket; a banned or over-rate source's connection is
// closed, so a flood over TCP is dropped like one over UDP.
type guardedConn struct {
	net.Conn
	g  *Guard
	ip netip.Addr
}

// Read reads from the connection if the guard still admits its source.
func (c *guardedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.g.admit(c.ip) {
		c.Conn.Close()
		return 0, errBanned
	}
	return n, err
}
