package bridge

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/supportline/ivr/media"
)

// legCapability is the pion codec capability of a G.711 codec.
func legCapability(c media.Codec) webrtc.RTPCodecCapability {
	mime := webrtc.MimeTypePCMU
	if c.PayloadType == media.PCMA.PayloadType {
		mime = webrtc.MimeTypePCMA
	}
	return webrtc.RTPCodecCapability{MimeType: mime, ClockRate: uint32(c.ClockRate)}
}

// newLegAPI builds the pion API of one leg: a MediaEngine with the caller's
// codec only, RTCP sender and receiver reports, and the ICE settings of cfg.
func newLegAPI(cfg LegConfig, codec media.Codec) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	params := webrtc.RTPCodecParameters{
		RTPCodecCapability: legCapability(codec),
		PayloadType:        webrtc.PayloadType(codec.PayloadType),
	}
	if err := me.RegisterCodec(params, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("bridge: register codec %s: %w", codec, err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("bridge: RTCP reports: %w", err)
	}
	se, err := legSettings(cfg)
	if err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se)), nil
}

// legSettings turns cfg into pion settings: host candidate addresses and
// network types, the UDP port range, ICE timeouts, no multicast DNS, and
// pion's logs into cfg.Log.
func legSettings(cfg LegConfig) (webrtc.SettingEngine, error) {
	var se webrtc.SettingEngine
	se.LoggerFactory = legLoggerFactory{log: cfg.Log}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	disc := cfg.DisconnectedTimeout
	if disc <= 0 {
		disc = DefaultDisconnectedTimeout
	}
	se.SetICETimeouts(disc, disc, min(2*time.Second, disc/2))
	if cfg.PortMin != 0 || cfg.PortMax != 0 {
		if cfg.PortMin == 0 || cfg.PortMax < cfg.PortMin {
			return se, fmt.Errorf("%w: ICE port range %d-%d", ErrLegConfig, cfg.PortMin, cfg.PortMax)
		}
		if err := se.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return se, fmt.Errorf("%w: ICE port range: %w", ErrLegConfig, err)
		}
	}
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if len(cfg.HostIPs) > 0 {
		f, err := newHostFilter(cfg.HostIPs)
		if err != nil {
			return se, err
		}
		se.SetIPFilter(f.keep)
		se.SetIncludeLoopbackCandidate(f.loopback)
		if f.onlyLoopback {
			se.SetRemoteIPFilter(f.keepRemote)
		}
		types = f.types()
	}
	se.SetNetworkTypes(types)
	return se, nil
}

// hostFilter keeps the host candidate addresses of LegConfig.HostIPs. When
// they are all loopback addresses it also keeps the remote candidates
// (peer-reflexive ones included) to loopback, so a loopback leg never
// sends a packet anywhere else, not even to this machine's own LAN address.
type hostFilter struct {
	allowed      map[netip.Addr]bool
	v4, v6       bool
	loopback     bool // some host IP is a loopback address
	onlyLoopback bool // every host IP is
}

func newHostFilter(ips []netip.Addr) (*hostFilter, error) {
	f := &hostFilter{allowed: make(map[netip.Addr]bool, len(ips)), onlyLoopback: true}
	for _, ip := range ips {
		if !ip.IsValid() {
			return nil, fmt.Errorf("%w: invalid host IP", ErrLegConfig)
		}
		ip = ip.Unmap().WithZone("")
		if ip.IsUnspecified() || ip.IsMulticast() {
			return nil, fmt.Errorf("%w: host IP %s is not a unicast address", ErrLegConfig, ip)
		}
		if b := ip.As16(); ip.Is6() && ([12]byte(b[:12]) == [12]byte{} || b[0] == 0xfe && b[1]&0xc0 == 0xc0) {
			// pion/ice drops IPv4-compatible (::/96, which holds ::1) and
			// site-local (fec0::/10) addresses from its candidates
			// (RFC 8445 §5.1.1.1): the offer would have none.
			return nil, fmt.Errorf("%w: host IP %s: ICE does not use ::/96 or fec0::/10 addresses (use 127.0.0.1 for loopback)", ErrLegConfig, ip)
		}
		f.allowed[ip] = true
		f.v4 = f.v4 || ip.Is4()
		f.v6 = f.v6 || ip.Is6()
		f.loopback = f.loopback || ip.IsLoopback()
		f.onlyLoopback = f.onlyLoopback && ip.IsLoopback()
	}
	return f, nil
}

func (f *hostFilter) keep(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	return ok && f.allowed[a.Unmap()]
}

func (f *hostFilter) keepRemote(ip net.IP) bool { return ip.IsLoopback() }

func (f *hostFilter) types() []webrtc.NetworkType {
	var t []webrtc.NetworkType
	if f.v4 {
		t = append(t, webrtc.NetworkTypeUDP4)
	}
	if f.v6 {
		t = append(t, webrtc.NetworkTypeUDP6)
	}
	return t
}
