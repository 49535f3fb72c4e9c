package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestNewPortAllocatorValidates(t *testing.T) {
	tests := []struct {
		name      string
		ip        netip.Addr
		low, high int
		ok        bool
	}{
		{"ok", testLoopback, 20000, 20099, true},
		{"one pair", testLoopback, 20000, 20001, true},
		{"odd low", testLoopback, 20001, 20099, false},
		{"low = high", testLoopback, 20000, 20000, false},
		{"low > high", testLoopback, 20002, 20000, false},
		{"privileged", testLoopback, 1000, 2000, false},
		{"above 65535", testLoopback, 65534, 65536, false},
		{"invalid address", netip.Addr{}, 20000, 20099, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPortAllocator(tt.ip, tt.low, tt.high)
			if tt.ok && err != nil {
				t.Errorf("error %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrPortRange) {
				t.Errorf("err %v, want ErrPortRange", err)
			}
		})
	}
}

// freeRange finds n free port pairs in a row on testLoopback, so the tests below
// do not depend on what else runs on the machine.
func freeRange(t *testing.T, pairs int) int {
	t.Helper()
	for base := 34000; base < 40000; base += 2 * pairs {
		a, err := NewPortAllocator(testLoopback, base, base+2*pairs-1)
		if err != nil {
			t.Fatal(err)
		}
		var got []*PortPair
		for range pairs {
			pp, err := a.Allocate()
			if err != nil {
				break
			}
			got = append(got, pp)
		}
		for _, pp := range got {
			_ = pp.Close()
		}
		if len(got) == pairs && got[0].RTPAddr().Port() == uint16(base) {
			return base
		}
	}
	t.Skip("no free port range on testLoopback")
	return 0
}

func TestPortAllocator(t *testing.T) {
	checkLeaks(t)
	base := freeRange(t, 3)
	a, err := NewPortAllocator(testLoopback, base, base+5)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []*PortPair
	for i := range 3 {
		pp, err := a.Allocate()
		if err != nil {
			t.Fatalf("pair %d: %v", i, err)
		}
		rtp := pp.RTPAddr()
		rtcp := pp.RTCP.LocalAddr().(*net.UDPAddr).AddrPort()
		if rtp.Port()%2 != 0 || rtcp.Port() != rtp.Port()+1 || rtp.Addr() != testLoopback {
			t.Errorf("pair %d: RTP %v RTCP %v", i, rtp, rtcp)
		}
		if want := uint16(base + 2*i); rtp.Port() != want {
			t.Errorf("pair %d on port %d, want %d", i, rtp.Port(), want)
		}
		pairs = append(pairs, pp)
	}
	if _, err := a.Allocate(); !errors.Is(err, ErrPortsExhausted) {
		t.Fatalf("4th pair: %v, want ErrPortsExhausted", err)
	}
	if a.InUse() != 3 {
		t.Errorf("InUse %d", a.InUse())
	}

	// Free the first and the second; the first freed is reused last (round robin).
	for range 2 {
		if err := pairs[0].Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	_ = pairs[1].Close()
	p1, err := a.Allocate()
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	if got := p1.RTPAddr().Port(); got != uint16(base) {
		t.Errorf("reused %d, want %d (next in round robin)", got, base)
	}
	p2, err := a.Allocate()
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	if got := p2.RTPAddr().Port(); got != uint16(base+2) {
		t.Errorf("reused %d, want %d", got, base+2)
	}
	for _, pp := range []*PortPair{p1, p2, pairs[2]} {
		_ = pp.Close()
	}
	if a.InUse() != 0 {
		t.Errorf("InUse %d after closing all", a.InUse())
	}
}

func TestPortAllocatorSkipsPortsInUse(t *testing.T) {
	base := freeRange(t, 3)
	// Another program holds the RTCP port of the first pair and the RTP port of the second.
	for _, p := range []int{base + 1, base + 2} {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	a, err := NewPortAllocator(testLoopback, base, base+5)
	if err != nil {
		t.Fatal(err)
	}
	pp, err := a.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer pp.Close()
	if got := pp.RTPAddr().Port(); got != uint16(base+4) {
		t.Errorf("got port %d, want %d", got, base+4)
	}
	if _, err := a.Allocate(); !errors.Is(err, ErrPortsExhausted) {
		t.Errorf("err %v, want ErrPortsExhausted", err)
	}
}

func TestPortAllocatorRoundRobin(t *testing.T) {
	base := freeRange(t, 3)
	a, err := NewPortAllocator(testLoopback, base, base+5)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint16
	for range 4 {
		pp, err := a.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pp.RTPAddr().Port())
		_ = pp.Close() // freed at once, yet not handed out again next
	}
	want := []uint16{uint16(base), uint16(base + 2), uint16(base + 4), uint16(base)}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ports %v, want %v", got, want)
		}
	}
}
