package server

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
)

// sipConfig is the signalling configuration: listeners, TLS certificate
// and SRTP policy. A TLS certificate that cannot be loaded is an error here,
// at start-up.
func (c *Config) sipConfig(log *slog.Logger) (sip.ServerConfig, error) {
	sc := sip.ServerConfig{Addr: c.SIPAddr, Contact: c.PublicAddr, Log: log,
		TLSAddr: c.SIPTLSAddr, SRTP: c.SRTP, SRTPInsecureSignalling: c.SRTPInsecureSignalling}
	if c.SIPTLSAddr == "" {
		return sc, nil
	}
	var err error
	if sc.TLS, err = sip.LoadServerTLS(c.SIPTLSCert, c.SIPTLSKey, log); err != nil {
		return sc, fmt.Errorf("--sip-tls-cert/--sip-tls-key: %w", err)
	}
	return sc, nil
}

// validateTLS checks the TLS and SRTP settings (part of Validate).
func (c *Config) validateTLS() []error {
	var errs []error
	if c.SIPTLSAddr != "" {
		if _, _, err := net.SplitHostPort(c.SIPTLSAddr); err != nil {
			errs = append(errs, fmt.Errorf("sip tls address %q: %w", c.SIPTLSAddr, err))
		}
		if c.SIPTLSCert == "" || c.SIPTLSKey == "" {
			errs = append(errs, fmt.Errorf("sip tls address %s: set --sip-tls-cert and --sip-tls-key", c.SIPTLSAddr))
		}
	}
	if c.SRTP == sip.SRTPRequired && c.SIPTLSAddr == "" && !c.SRTPInsecureSignalling {
		errs = append(errs, fmt.Errorf("--srtp=required takes SDES keys only over TLS: set --sip-tls-addr (or --srtp-insecure-signalling)"))
	}
	return errs
}

// newCallCrypto makes the SRTP transform of a call whose offer was
// SDES-SRTP; nil for plain RTP.
func newCallCrypto(ic *sip.InboundCall) (*media.SRTP, error) {
	k := ic.SRTP()
	if k == nil {
		return nil, nil
	}
	return media.NewSRTP(srtpKeys(k))
}

func srtpKeys(k *sip.SDES) media.SRTPKeys {
	return media.SRTPKeys{Suite: media.SRTPSuite(k.Suite), Local: k.LocalKey, Remote: k.RemoteKey}
}

// rekeySRTP takes the keys of a re-INVITE (RFC 4568 §7.1.4): a changed key
// or suite gets a new SRTP context for its direction.
func (c *call) rekeySRTP() {
	k := c.ic.SRTP()
	if c.srtp == nil || k == nil {
		return
	}
	if err := c.srtp.Rekey(srtpKeys(k)); err != nil {
		c.log.Warn("SRTP rekey failed; keeping the old keys", "error", err)
	}
}

// packetCrypto is the call's SRTP transform as the session takes it: a nil
// interface, not a nil *media.SRTP, for plain RTP.
func (c *call) packetCrypto() media.PacketCrypto {
	if c.srtp == nil {
		return nil
	}
	return c.srtp
}

// logSRTP reports an SRTP call's dropped packets when it ends (the
// ivr_srtp_* metrics of docs/tls.md).
func (c *call) logSRTP(st media.Stats) {
	if c.srtp == nil {
		return
	}
	c.log.Info("srtp stats", "suite", string(c.srtp.Suite()), "auth_failures", st.SRTPAuthFailures,
		"replays", st.SRTPReplays)
}
