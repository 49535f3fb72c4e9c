package softphone

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/supportline/ivr/media"
)

// Defaults of Config.
const (
	DefaultSetupTimeout = 30 * time.Second
	DefaultNoRTPTimeout = 5 * time.Second
	DefaultRTPLow       = 40000
	DefaultRTPHigh      = 49999
)

// Config describes the calls to place. The zero value of each field means
// its default.
type Config struct {
	Target    string // SIP URI to call ("sip:" may be left out)
	From      string // user part of our From URI
	Transport string // "udp", "tcp" or "tls"; empty: tls for a sips: or ;transport=tls target, else udp
	Codec     string // "pcmu" (default) or "pcma": the one codec offered
	// Local is the host:port our SIP socket binds to (default
	// 127.0.0.1:0). RTP binds to the same host.
	Local string
	// TLSCA is a PEM file of the CAs trusted for TLS (default: the system
	// roots). SRTP offers RTP/SAVP with fresh SDES keys (srtp.go).
	TLSCA string
	SRTP  bool
	// RTPLow and RTPHigh bound our own RTP ports (default 40000-49999).
	RTPLow, RTPHigh int
	// SetupTimeout bounds INVITE → answer (default 30 s); CANCEL is sent then.
	SetupTimeout time.Duration
	// Duration caps the time on the call after the answer (0: until the
	// far end hangs up, or the script's hangup step).
	Duration time.Duration
	// NoRTPTimeout fails an answered call that received no RTP that long
	// (default 5 s). RTPTimeout fails a call whose RTP stops that long
	// later on (default media.DefaultInactivityTimeout).
	NoRTPTimeout, RTPTimeout time.Duration
	// DTMFInband sends dtmf steps as tones in the audio instead of RFC 4733
	// events, each DTMFDuration long (default 100 ms) with DTMFGap between
	// them (default 100 ms).
	DTMFInband            bool
	DTMFDuration, DTMFGap time.Duration
	// Record is a WAV file for what the far end sent (8 kHz mono 16-bit).
	// In a load run each call gets its own: OUT.wav → OUT-0007.wav.
	Record string
	// ActivityThreshold is the level in dBFS above which far-end audio is
	// present (default DefaultActivityThreshold); Quiet how long it must
	// stay below for the audio to have stopped (default DefaultQuiet).
	ActivityThreshold float64
	Quiet             time.Duration
	// JitterDelay is the receive playout delay (media default when zero).
	// Audio start times and response_ms include it.
	JitterDelay time.Duration
	// AuthUser and AuthPassword answer SIP digest challenges (a softphone
	// user of `ivr sipusers`); AuthUser defaults to From.
	AuthUser, AuthPassword string
	// Progress, when set, is called about once a second during Load.
	Progress func(LoadProgress)
	Log      *slog.Logger
}

// withDefaults checks c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Target == "" {
		return c, fmt.Errorf("%w: no target URI", ErrConfig)
	}
	c.Transport = transportOf(c.Transport, c.Target)
	if c.Transport != "udp" && c.Transport != "tcp" && c.Transport != "tls" {
		return c, fmt.Errorf("%w: transport %q: want udp, tcp or tls", ErrConfig, c.Transport)
	}
	if c.Codec == "" {
		c.Codec = "pcmu"
	}
	if _, err := media.CodecByName(c.Codec); err != nil {
		return c, fmt.Errorf("%w: codec %q: want pcmu or pcma", ErrConfig, c.Codec)
	}
	if c.Local == "" {
		c.Local = "127.0.0.1:0"
	}
	if c.RTPLow == 0 && c.RTPHigh == 0 {
		c.RTPLow, c.RTPHigh = DefaultRTPLow, DefaultRTPHigh
	}
	c.SetupTimeout = orDefault(c.SetupTimeout, DefaultSetupTimeout)
	c.NoRTPTimeout = orDefault(c.NoRTPTimeout, DefaultNoRTPTimeout)
	c.RTPTimeout = orDefault(c.RTPTimeout, media.DefaultInactivityTimeout)
	c.DTMFDuration = orDefault(c.DTMFDuration, DefaultDTMFDuration)
	c.DTMFGap = orDefault(c.DTMFGap, DefaultDTMFGap)
	c.Quiet = orDefault(c.Quiet, DefaultQuiet)
	if c.ActivityThreshold == 0 {
		c.ActivityThreshold = DefaultActivityThreshold
	}
	if c.Record != "" {
		if st, err := os.Stat(filepath.Dir(c.Record)); err != nil || !st.IsDir() {
			return c, fmt.Errorf("%w: recording %s: no such directory", ErrConfig, c.Record)
		}
	}
	if c.Duration < 0 {
		return c, fmt.Errorf("%w: negative duration", ErrConfig)
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ParsePortRange reads "LOW-HIGH".
func ParsePortRange(s string) (low, high int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		low, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			high, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("%w: port range %q: want LOW-HIGH", ErrConfig, s)
	}
	return low, high, nil
}

// mediaAddr is the address our RTP binds to and the SDP announces: the
// host of local, or when that is unspecified, the address the system
// would send to target from.
func mediaAddr(local, target string) (netip.Addr, error) {
	host, _, err := net.SplitHostPort(local)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: local address %q: %w", ErrConfig, local, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: local address %q: want an IP address", ErrConfig, local)
	}
	if !ip.IsUnspecified() {
		return ip.Unmap(), nil
	}
	conn, err := net.Dial("udp", targetHostPort(target)) // sends nothing: just picks a route
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: no route to %s: %w", ErrConfig, target, err)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// targetHostPort extracts host:port from a SIP URI, for routing only.
func targetHostPort(uri string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(uri, "sip:"), "sips:")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		s = s[:i]
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		s = net.JoinHostPort(strings.Trim(s, "[]"), "5060")
	}
	return s
}
