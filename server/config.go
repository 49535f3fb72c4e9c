// Package server runs `ivr serve`: it joins the SIP signaling (package sip),
// each call's media (package media) and the prompts, runs a dialog flow per
// call, and serves the HTTP endpoints. It is the thin per-call coordinator
// of DESIGN.md: one context per call, every goroutine of a call under it.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/supportline/ivr/sip"
)

// Config is the server's whole configuration, filled in cmd from flags,
// IVR_* environment variables and the config file, and validated once.
type Config struct {
	SIPAddr    string // host:port for SIP over UDP and TCP
	HTTPAddr   string // host:port for /healthz (and later the agent pages, metrics)
	PublicAddr string // address written in SDP and Contact; empty: derived from SIPAddr
	RTPLow     int    // RTP port range, even low..high
	RTPHigh    int
	DataDir    string
	PromptsDir string // override directory for prompt MP3s and catalog.tsv; empty: embedded set

	MaxCalls       int           // concurrent calls; more get 503
	RingTime       time.Duration // 180 Ringing this long before answering (0: answer at once)
	RTPTimeout     time.Duration // no RTP for this long hangs a call up
	NoInputTimeout time.Duration // menu: how long to wait for a key
	MaxCallTime    time.Duration // hard cap on a call's length
	// DrainTime is how long calls in progress may go on after a shutdown
	// starts (new calls get 503 meanwhile); calls still up then hear the
	// shutdown goodbye and are hung up. 0 ends them at once, politely.
	DrainTime time.Duration

	SIPSec SIPSecurity // SIP access control (server/sipsec.go)

	// SIP over TLS and SRTP (srtp.go): SIPTLSAddr empty is no TLS listener.
	SIPTLSAddr, SIPTLSCert, SIPTLSKey string
	SRTP                              sip.SRTPPolicy
	SRTPInsecureSignalling            bool // take SDES keys over UDP/TCP too

	// RecordCalls records every call as a stereo WAV under
	// <DataDir>/recordings (recording.go).
	RecordCalls bool

	Log *slog.Logger
}

// Defaults returns a configuration that works on a fresh machine: every
// listener on loopback only.
func Defaults() Config {
	return Config{
		SIPAddr:        "127.0.0.1:5060",
		HTTPAddr:       "127.0.0.1:8080",
		RTPLow:         10000,
		RTPHigh:        20000,
		DataDir:        "data",
		MaxCalls:       500,
		RTPTimeout:     30 * time.Second,
		NoInputTimeout: 6 * time.Second,
		MaxCallTime:    time.Hour,
		DrainTime:      30 * time.Second,
		SIPSec:         DefaultSIPSecurity(),
	}
}

// Validate checks the configuration and fills derived values.
func (c *Config) Validate() error {
	var errs []error
	host, _, err := net.SplitHostPort(c.SIPAddr)
	if err != nil {
		errs = append(errs, fmt.Errorf("sip address %q: %w", c.SIPAddr, err))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("http address %q: %w", c.HTTPAddr, err))
	}
	if c.RTPLow < 1024 || c.RTPHigh > 65535 || c.RTPLow >= c.RTPHigh || c.RTPLow%2 != 0 {
		errs = append(errs, fmt.Errorf("rtp ports %d-%d: want an even low port, 1024 <= low < high <= 65535", c.RTPLow, c.RTPHigh))
	}
	if c.MaxCalls < 1 {
		errs = append(errs, fmt.Errorf("max calls %d: want at least 1", c.MaxCalls))
	}
	if c.RingTime < 0 || c.RingTime > time.Minute {
		errs = append(errs, fmt.Errorf("ring time %v: want 0 to 1m", c.RingTime))
	}
	if c.RTPTimeout <= 0 || c.NoInputTimeout <= 0 || c.MaxCallTime <= 0 {
		errs = append(errs, errors.New("timeouts must be positive"))
	}
	if c.DrainTime < 0 || c.DrainTime > 24*time.Hour {
		errs = append(errs, fmt.Errorf("drain time %v: want 0 to 24h", c.DrainTime))
	}
	errs = append(errs, c.SIPSec.validate()...)
	errs = append(errs, c.validateTLS()...)
	if c.DataDir == "" {
		errs = append(errs, errors.New("data dir must be set"))
	}
	if c.PublicAddr == "" && host != "" {
		c.PublicAddr = host
	}
	if c.PublicAddr != "" {
		ip, err := netip.ParseAddr(c.PublicAddr)
		if err != nil {
			errs = append(errs, fmt.Errorf("public address %q: want an IP address: %w", c.PublicAddr, err))
		} else if ip.IsUnspecified() {
			errs = append(errs, fmt.Errorf("public address %q: set --public-addr to the address callers reach when listening on all interfaces", c.PublicAddr))
		}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return errors.Join(errs...)
}

// rtpBindAddr is the address RTP sockets bind to: the SIP listen host.
func (c *Config) rtpBindAddr() netip.Addr {
	host, _, _ := net.SplitHostPort(c.SIPAddr)
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip
	}
	return netip.IPv4Unspecified()
}
