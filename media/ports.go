package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// PortAllocator hands out RTP/RTCP port pairs from a range on one address:
// an even RTP port and the odd RTCP port above it (RFC 3550 §11). It is safe
// for concurrent use.
//
// Allocation is round-robin: the search starts after the last pair handed
// out, so a pair that was just freed is the last to be reused. Late packets of
// an ended call then do not land in the next call. Ports held by other
// programs are skipped.
type PortAllocator struct {
	ip        netip.Addr
	low, high int // low even; pairs are low, low+2, ... while port+1 <= high

	mu    sync.Mutex
	next  int    // index of the pair to try first
	inUse []bool // by pair index
}

// NewPortAllocator returns an allocator for the ports low..high (inclusive)
// on ip. low must be even, low < high, and both within 1024..65535.
func NewPortAllocator(ip netip.Addr, low, high int) (*PortAllocator, error) {
	switch {
	case !ip.IsValid():
		return nil, fmt.Errorf("%w: invalid address", ErrPortRange)
	case low < 1024 || high > 65535:
		return nil, fmt.Errorf("%w: %d-%d outside 1024-65535", ErrPortRange, low, high)
	case low%2 != 0:
		return nil, fmt.Errorf("%w: low port %d is odd", ErrPortRange, low)
	case low >= high:
		return nil, fmt.Errorf("%w: low %d >= high %d", ErrPortRange, low, high)
	}
	n := (high - low + 1) / 2
	return &PortAllocator{ip: ip.Unmap(), low: low, high: high, inUse: make([]bool, n)}, nil
}

// Allocate binds the next free port pair. It returns ErrPortsExhausted when
// every pair of the range is in use, by this allocator or by other programs.
func (a *PortAllocator) Allocate() (*PortPair, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(a.inUse)
	for i := range n {
		idx := (a.next + i) % n
		if a.inUse[idx] {
			continue
		}
		port := a.low + 2*idx
		rtp, rtcp, err := a.bind(port)
		if err != nil {
			continue // taken by someone else: try the next pair
		}
		a.inUse[idx] = true
		a.next = (idx + 1) % n
		return &PortPair{RTP: rtp, RTCP: rtcp, alloc: a, idx: idx}, nil
	}
	return nil, fmt.Errorf("%w: %d-%d on %s", ErrPortsExhausted, a.low, a.high, a.ip)
}

func (a *PortAllocator) bind(port int) (rtp, rtcp *net.UDPConn, err error) {
	network := "udp6"
	if a.ip.Is4() {
		network = "udp4"
	}
	rtp, err = net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a.ip, uint16(port))))
	if err != nil {
		return nil, nil, err
	}
	rtcp, err = net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a.ip, uint16(port+1))))
	if err != nil {
		return nil, nil, errors.Join(err, rtp.Close())
	}
	return rtp, rtcp, nil
}

func (a *PortAllocator) release(idx int) {
	a.mu.Lock()
	a.inUse[idx] = false
	a.mu.Unlock()
}

// InUse reports how many pairs are currently handed out.
func (a *PortAllocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := 0
	for _, u := range a.inUse {
		if u {
			k++
		}
	}
	return k
}

// PortPair is a bound RTP socket and the RTCP socket on the port above it.
type PortPair struct {
	RTP, RTCP *net.UDPConn

	alloc  *PortAllocator // nil when not from an allocator
	idx    int
	closed atomic.Bool
}

// NewPortPair wraps sockets that were bound elsewhere (RTCP may be nil).
// Close closes them; no allocator is involved.
func NewPortPair(rtp, rtcp *net.UDPConn) *PortPair {
	return &PortPair{RTP: rtp, RTCP: rtcp}
}

// RTPAddr returns the local address of the RTP socket.
func (p *PortPair) RTPAddr() netip.AddrPort {
	ap := p.RTP.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Close closes both sockets and returns the pair to its allocator. It is
// idempotent.
func (p *PortPair) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	if p.RTP != nil {
		errs = append(errs, p.RTP.Close())
	}
	if p.RTCP != nil {
		errs = append(errs, p.RTCP.Close())
	}
	if p.alloc != nil {
		p.alloc.release(p.idx)
	}
	return errors.Join(errs...)
}
