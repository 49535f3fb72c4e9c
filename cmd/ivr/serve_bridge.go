package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/pion/webrtc/v4"
	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/bridge"
	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/server"
	"github.com/supportline/ivr/store"
)

// newBridge builds the live-agent bridge from the serve flags.
func newBridge(c *cli.Context, cfg server.Config, st *store.SQLite, cat *prompts.Catalog, log *slog.Logger,
	obs bridge.Observer) (*bridge.Bridge, error) {
	leg := bridge.LegConfig{Log: log}
	for _, u := range splitList(c.String("ice-servers")) {
		srv, err := iceServer(u)
		if err != nil {
			return nil, err
		}
		leg.ICEServers = append(leg.ICEServers, srv)
	}
	ips := splitList(c.String("webrtc-ips"))
	if len(ips) == 0 {
		host, _, err := net.SplitHostPort(cfg.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("--http-addr %q: %w", cfg.HTTPAddr, err)
		}
		ips = []string{host}
	}
	for _, s := range ips {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--webrtc-ips %q: want IP addresses: %w", s, err)
		}
		if !ip.IsUnspecified() {
			leg.HostIPs = append(leg.HostIPs, ip)
		}
	}
	if r := c.String("webrtc-ports"); r != "" {
		lo, hi, err := parseRange(r)
		if err != nil || lo < 1024 || hi > 65535 || lo > hi {
			return nil, fmt.Errorf("--webrtc-ports %q: want LOW-HIGH within 1024-65535", r)
		}
		leg.PortMin, leg.PortMax = uint16(lo), uint16(hi)
	}
	return bridge.New(bridge.Config{
		Store: st, Auth: bridge.NewAuth(st, bridge.WithAuthLogger(log), bridge.WithSessionStore(st)), Prompts: cat, Leg: leg,
		OfferTimeout: c.Duration("agent-offer-timeout"), TURNSecret: c.String("turn-secret"), Log: log,
		Observer: obs,
	})
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// iceServer reads stun:host:port or turn:user:pass@host:port.
func iceServer(u string) (webrtc.ICEServer, error) {
	scheme, rest, ok := strings.Cut(u, ":")
	switch {
	case !ok || rest == "":
		return webrtc.ICEServer{}, fmt.Errorf("--ice-servers %q: want stun:HOST:PORT or turn:USER:PASS@HOST:PORT", u)
	case scheme == "stun" || scheme == "stuns":
		return webrtc.ICEServer{URLs: []string{u}}, nil
	case scheme == "turn" || scheme == "turns":
		cred, host, ok := strings.Cut(rest, "@")
		if !ok {
			return webrtc.ICEServer{URLs: []string{u}}, nil
		}
		user, pass, _ := strings.Cut(cred, ":")
		return webrtc.ICEServer{URLs: []string{scheme + ":" + host}, Username: user, Credential: pass}, nil
	}
	return webrtc.ICEServer{}, fmt.Errorf("--ice-servers %q: want a stun: or turn: URL", u)
}
