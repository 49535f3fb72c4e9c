package sip

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestGuardRateLimit(t *testing.T) {
	clk := newTestClock()
	g, err := NewGuard(GuardConfig{Rate: 10, Burst: 5, BanAfter: 100, Now: clk.Now,
		Trunks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	admitted := 0
	for i := 0; i < 20; i++ {
		if g.admit(ip) {
			admitted++
		}
	}
	if admitted != 5 {
		t.Errorf("admitted %d of 20 at once, want the burst of 5", admitted)
	}
	clk.Advance(300 * time.Millisecond) // 3 tokens at 10/s
	admitted = 0
	for i := 0; i < 10; i++ {
		if g.admit(ip) {
			admitted++
		}
	}
	if admitted != 3 {
		t.Errorf("admitted %d after 300 ms, want 3", admitted)
	}
	for i := 0; i < 1000; i++ {
		if !g.admit(netip.MustParseAddr("10.1.2.3")) {
			t.Fatal("trunk rate limited")
		}
	}
	if st := g.Stats(); st.Rejected[ReasonRateLimited] != 22 {
		t.Errorf("rate limited %d, want 22", st.Rejected[ReasonRateLimited])
	}
}

func TestParseTrunks(t *testing.T) {
	tests := []struct {
		in      []string
		want    string
		wantErr bool
	}{
		{[]string{"127.0.0.0/8", "::1"}, "[127.0.0.0/8 ::1/128]", false},
		{[]string{"192.0.2.7", ""}, "[192.0.2.7/32]", false},
		{[]string{"10.1.2.3/8"}, "[10.0.0.0/8]", false},
		{[]string{"::ffff:192.0.2.1"}, "[192.0.2.1/32]", false},
		{[]string{"example.com"}, "", true},
		{nil, "[]", false},
	}
	for _, tt := range tests {
		got, err := ParseTrunks(tt.in)
		if (err != nil) != tt.wantErr || err == nil && fmt.Sprint(got) != tt.want {
			t.Errorf("ParseTrunks(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestGuardSourceTableBounded(t *testing.T) {
	clk := newTestClock()
	g, err := NewGuard(GuardConfig{MaxSources: 10, BanAfter: 2, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	banned := netip.MustParseAddr("192.0.2.200")
	g.Fail(banned, ReasonMalformed)
	g.Fail(banned, ReasonMalformed)
	for i := 1; i <= 9; i++ {
		g.admit(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}))
	}
	if st := g.Stats(); st.Sources != 10 {
		t.Fatalf("sources %d", st.Sources)
	}
	clk.Advance(2 * time.Minute) // past the ban window, within the ban
	g.admit(netip.MustParseAddr("198.51.100.1"))
	if st := g.Stats(); st.Sources != 2 || !g.Banned(banned) {
		t.Errorf("after the sweep: %d sources (want the banned one and the new one), banned %v", st.Sources, g.Banned(banned))
	}
	if _, err := NewGuard(GuardConfig{Rate: -1}); err == nil {
		t.Error("negative rate accepted")
	}
}
