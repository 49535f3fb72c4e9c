package bridge

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func TestLegOffer(t *testing.T) {
	for _, tc := range []struct {
		codec, format, rtpmap string
	}{
		{"PCMU", "0", "a=rtpmap:0 PCMU/8000"},
		{"PCMA", "8", "a=rtpmap:8 PCMA/8000"},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			checkLeaks(t)
			ctx := testContext(t, 10*time.Second)
			cfg := testLegConfig(tc.codec)
			cfg.PortMin, cfg.PortMax = 38100, 38199
			leg := newTestLeg(t, cfg)
			offer, err := leg.Offer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			mline := regexp.MustCompile(`(?m)^m=audio \d+ UDP/TLS/RTP/SAVPF ([0-9 ]+)\r?$`).FindStringSubmatch(offer)
			if mline == nil || mline[1] != tc.format {
				t.Errorf("audio formats %q, want only %s:\n%s", mline, tc.format, offer)
			}
			for _, want := range []string{tc.rtpmap, "a=sendrecv", "a=fingerprint:sha-256 ", "a=setup:actpass"} {
				if !strings.Contains(offer, want) {
					t.Errorf("offer lacks %q", want)
				}
			}
			checkCandidates(t, offer, cfg.PortMin, cfg.PortMax)
		})
	}
}

// checkCandidates checks that the offer has host candidates, all on
// loopback UDP within the port range, and nothing else.
func checkCandidates(t *testing.T, offer string, pmin, pmax uint16) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^a=candidate:\S+ \d+ (\S+) \d+ (\S+) (\d+) typ (\S+)`)
	cands := re.FindAllStringSubmatch(offer, -1)
	if len(cands) == 0 {
		t.Fatalf("no candidates in the offer:\n%s", offer)
	}
	for _, c := range cands {
		addr, err := netip.ParseAddrPort(c[2] + ":" + c[3])
		if err != nil || !strings.EqualFold(c[1], "udp") || c[4] != "host" || addr.Addr() != testLoopback ||
			addr.Port() < pmin || addr.Port() > pmax {
			t.Errorf("candidate %q: want a UDP host candidate on 127.0.0.1:%d-%d", c[0], pmin, pmax)
		}
	}
}

func TestLegConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  LegConfig
	}{
		{"codec G722", LegConfig{Codec: "G722"}},
		{"no codec", LegConfig{}},
		{"port range reversed", LegConfig{Codec: "PCMU", PortMin: 5000, PortMax: 4000}},
		{"port max only", LegConfig{Codec: "PCMU", PortMax: 4000}},
		{"host IP zero", LegConfig{Codec: "PCMU", HostIPs: []netip.Addr{{}}}},
		{"host IP unspecified", LegConfig{Codec: "PCMU", HostIPs: []netip.Addr{netip.IPv4Unspecified()}}},
		{"host IP multicast", LegConfig{Codec: "PCMU", HostIPs: []netip.Addr{netip.MustParseAddr("224.0.0.251")}}},
		{"host IP ::1 (pion ICE never gathers it)", LegConfig{Codec: "PCMU", HostIPs: []netip.Addr{netip.IPv6Loopback()}}},
		{"host IP site-local", LegConfig{Codec: "PCMU", HostIPs: []netip.Addr{netip.MustParseAddr("fec0::1")}}},
		{"host IP IPv4-compatible", LegConfig{Codec: "PCMU", HostIPs: []netip.Addr{netip.MustParseAddr("::10.0.0.1")}}},
		{"ICE server not a URL", LegConfig{Codec: "PCMU", ICEServers: []webrtc.ICEServer{{URLs: []string{"http://stun.invalid"}}}}},
		{"TURN without credentials", LegConfig{Codec: "PCMU", ICEServers: []webrtc.ICEServer{{URLs: []string{"turn:turn.invalid:3478"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leg, err := NewLeg(tc.cfg)
			if !errors.Is(err, ErrLegConfig) {
				t.Errorf("NewLeg: err %v, want ErrLegConfig", err)
			}
			t.Log(err)
			if leg != nil {
				t.Errorf("NewLeg returned a leg with an error")
				_ = leg.Close()
			}
		})
	}
}

// TestLegOfferBoundedByContext gives the leg a STUN server that never
// answers (a silent loopback socket): gathering would wait for pion's STUN
// timeout, and Offer returns when its context ends instead.
func TestLegOfferBoundedByContext(t *testing.T) {
	checkLeaks(t)
	silent := listenCuttable(t)
	t.Cleanup(func() { _ = silent.Close() })
	cfg := testLegConfig("PCMU")
	cfg.ICEServers = []webrtc.ICEServer{{URLs: []string{"stun:" + silent.LocalAddr().String()}}}
	leg := newTestLeg(t, cfg)
	ctx, cancel := context.WithTimeout(testContext(t, 10*time.Second), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := leg.Offer(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Offer: err %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Offer returned %v after its context ended", d)
	}
}

// TestLegHostFilter checks which local and remote addresses a leg's ICE
// keeps: its host IPs only, and remote loopback addresses only when every
// host IP is a loopback address.
func TestLegHostFilter(t *testing.T) {
	loop, lan := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3")
	for _, tc := range []struct {
		name         string
		hosts        []netip.Addr
		local        map[string]bool
		onlyLoopback bool
	}{
		{"loopback", []netip.Addr{loop}, map[string]bool{"127.0.0.1": true, "10.1.2.3": false, "127.0.0.2": false}, true},
		{"LAN", []netip.Addr{lan}, map[string]bool{"127.0.0.1": false, "10.1.2.3": true}, false},
		{"both", []netip.Addr{loop, lan}, map[string]bool{"127.0.0.1": true, "10.1.2.3": true, "10.1.2.4": false}, false},
		{"v4-mapped", []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}, map[string]bool{"127.0.0.1": true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := newHostFilter(tc.hosts)
			if err != nil {
				t.Fatal(err)
			}
			for ip, want := range tc.local {
				if got := f.keep(net.ParseIP(ip)); got != want {
					t.Errorf("keep(%s) = %v, want %v", ip, got, want)
				}
			}
			if f.onlyLoopback != tc.onlyLoopback {
				t.Errorf("onlyLoopback = %v, want %v", f.onlyLoopback, tc.onlyLoopback)
			}
			if f.keepRemote(net.ParseIP("192.0.2.1")) || !f.keepRemote(net.ParseIP("127.0.0.1")) {
				t.Error("keepRemote must keep loopback addresses only")
			}
		})
	}
}
