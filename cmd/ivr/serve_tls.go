package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"github.com/supportline/ivr/server"
	"github.com/supportline/ivr/sip"
)

// tlsFlags are `ivr serve`'s SIP-over-TLS and SRTP flags (docs/tls.md).
func tlsFlags() []cli.Flag {
	return []cli.Flag{
		altsrc.NewStringFlag(&cli.StringFlag{Name: "sip-tls-addr", Usage: "SIP over TLS listen address, e.g. 0.0.0.0:5061 (default: no TLS)", EnvVars: []string{"IVR_SIP_TLS_ADDR"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "sip-tls-cert", Usage: "PEM certificate chain `FILE` for --sip-tls-addr", EnvVars: []string{"IVR_SIP_TLS_CERT"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "sip-tls-key", Usage: "PEM private key `FILE` for --sip-tls-cert", EnvVars: []string{"IVR_SIP_TLS_KEY"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "srtp", Value: sip.SRTPOptional.String(), Usage: "SDES-SRTP: off (refuse RTP/SAVP offers), optional (answer RTP/SAVP with SRTP, RTP/AVP with RTP) or required (refuse RTP/AVP)", EnvVars: []string{"IVR_SRTP"}}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "srtp-insecure-signalling", Usage: "also take SDES keys over UDP/TCP, where anyone on the path can read them (default: TLS only)", EnvVars: []string{"IVR_SRTP_INSECURE_SIGNALLING"}}),
	}
}

// applyTLSFlags copies the TLS and SRTP flags into cfg.
func applyTLSFlags(c *cli.Context, cfg *server.Config) error {
	cfg.SIPTLSAddr = c.String("sip-tls-addr")
	cfg.SIPTLSCert = c.String("sip-tls-cert")
	cfg.SIPTLSKey = c.String("sip-tls-key")
	cfg.SRTPInsecureSignalling = c.Bool("srtp-insecure-signalling")
	var err error
	if cfg.SRTP, err = sip.ParseSRTPPolicy(c.String("srtp")); err != nil {
		return fmt.Errorf("--srtp: %w", err)
	}
	return nil
}
