package sip

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// SIP over TLS (RFC 3261 §26.2, RFC 5630): a TLS listener beside UDP and
// TCP. Calls that come in over TLS get a Contact of
// sip:ivr@HOST:PORT;transport=tls (sips: when the INVITE's Request-URI
// was sips:), and every request we send in their dialog (BYE) goes back
// over the caller's own TLS connection, as softphones behind NAT expect
// (they do not listen for new TLS connections).

// ErrTLSConfig reports a TLS certificate, key or CA file that cannot be used.
var ErrTLSConfig = errors.New("sip: TLS config")

// tlsCipherSuites are the TLS 1.2 suites we allow: forward-secret AEAD
// only. TLS 1.3 suites are not configurable and all fine.
var tlsCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// LoadServerTLS reads a PEM certificate chain and its private key for the
// TLS listener. A missing or unreadable file, or a key that does not match
// the certificate, is an error naming the files. The files are checked
// again every 10 s on a handshake and a renewed certificate is used for new
// connections (tls_reload.go); log (nil: slog.Default) gets that news.
func LoadServerTLS(certFile, keyFile string, log *slog.Logger) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("%w: a TLS listener needs both a certificate and a key file", ErrTLSConfig)
	}
	if log == nil {
		log = slog.Default()
	}
	r, err := newCertReloader(certFile, keyFile, log)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		GetCertificate: r.getCertificate,
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   tlsCipherSuites,
	}, nil
}

// ClientTLS is the TLS configuration of a phone: it trusts the PEM CA
// certificates in caFile (the system roots when empty).
func ClientTLS(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: tlsCipherSuites}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("%w: CA file: %w", ErrTLSConfig, err)
	}
	cfg.RootCAs = x509.NewCertPool()
	if !cfg.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrTLSConfig, caFile)
	}
	return cfg, nil
}

// listenTLS binds the TLS listener when one is configured and makes the
// dialog UA whose Contact names it. Called by Listen after initClient; it
// closes the UDP and TCP sockets when it fails.
func (s *Server) listenTLS(host string) error {
	if s.cfg.TLSAddr == "" {
		return nil
	}
	fail := func(err error) error {
		s.udp.Close()
		s.tcp.Close()
		return err
	}
	if s.cfg.TLS == nil || len(s.cfg.TLS.Certificates) == 0 && s.cfg.TLS.GetCertificate == nil {
		return fail(fmt.Errorf("%w: TLS address %s without a certificate", ErrTLSConfig, s.cfg.TLSAddr))
	}
	raw, err := net.Listen("tcp", s.cfg.TLSAddr)
	if err != nil {
		return fail(fmt.Errorf("sip: listen tls %s: %w", s.cfg.TLSAddr, err))
	}
	// The guard sees the TCP connection first: a banned source is cut off
	// before its TLS handshake costs anything.
	ln := tls.NewListener(s.GuardListener(raw), s.cfg.TLS)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	contact := s.dua.ContactHDR.Address
	contact.Port = p
	contact.UriParams = gosip.NewParams()
	contact.UriParams.Add("transport", "tls")
	s.tlsLn = ln
	s.tlsDUA = &sipgo.DialogUA{Client: s.client, ContactHDR: gosip.ContactHeader{Address: contact}, RewriteContact: true}
	return nil
}

// TLSAddr returns the bound TLS listen address, nil without TLS.
func (s *Server) TLSAddr() net.Addr {
	if s.tlsLn == nil {
		return nil
	}
	return s.tlsLn.Addr()
}

// serveTLS starts serving the TLS listener, if any; its end is sent on errc.
func (s *Server) serveTLS(errc chan<- error) {
	if s.tlsLn == nil {
		return
	}
	go func() { errc <- s.srv.ServeTLS(s.tlsLn) }()
	s.log.Info("sip listening", "tls", s.tlsLn.Addr().String(), "srtp", s.cfg.SRTP.String())
}

// closeTLS closes the TLS listener, if any.
func (s *Server) closeTLS() {
	if s.tlsLn != nil {
		s.tlsLn.Close()
	}
}

// duaFor is the dialog UA for a request: the TLS one (Contact with
// transport=tls, in-dialog requests over the caller's connection) for
// requests that came over TLS.
func (s *Server) duaFor(req *gosip.Request) *sipgo.DialogUA {
	if strings.EqualFold(req.Transport(), "tcp") {
		return s.tcpDUA
	}
	if s.tlsDUA == nil || !isTLS(req.Transport()) {
		return s.dua
	}
	if req.Recipient.Scheme == "sips" {
		dua := *s.tlsDUA
		dua.ContactHDR.Address.Scheme = "sips" // RFC 3261 §8.1.1.8
		return &dua
	}
	return s.tlsDUA
}

func isTLS(transport string) bool { return strings.EqualFold(transport, "tls") }

// negotiateSRTP applies the SRTP policy to an INVITE's offer (see
// answerSDES). prev is the call's current SDES for a re-offer.
func (s *Server) negotiateSRTP(req *gosip.Request, offer *Media, prev *SDES, mid bool) (*SDES, error) {
	if mid && (prev != nil) != offer.Secure() {
		return nil, fmt.Errorf("%w: a call cannot switch between RTP and SRTP", ErrSRTP)
	}
	return answerSDES(offer, s.cfg.SRTP, isTLS(req.Transport()), s.cfg.SRTPInsecureSignalling, prev)
}

// SRTP returns the call's SDES keys, nil for plain RTP. A re-INVITE may
// change them: read again after MediaChanged.
func (c *InboundCall) SRTP() *SDES {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sdes
}

// phoneTLSLocal is the address a TLS phone names in its Contact. It does
// not listen: the far end sends in-dialog requests over the phone's own
// connection (RFC 5626 style), so only the host counts.
func phoneTLSLocal(local string) net.Addr {
	host, _, err := net.SplitHostPort(local)
	if err != nil {
		host = "127.0.0.1"
	}
	return &net.TCPAddr{IP: net.ParseIP(host)}
}

// phoneUAOptions are the user agent options of a phone: its TLS trust.
func phoneUAOptions(cfg PhoneConfig) []sipgo.UserAgentOption {
	if cfg.Transport != "tls" {
		return nil
	}
	conf := cfg.TLS
	if conf == nil {
		conf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return []sipgo.UserAgentOption{sipgo.WithUserAgenTLSConfig(conf)}
}

// reofferSRTP takes the SDES part of a re-INVITE or UPDATE offer (c.mu
// held): the call's keys change as negotiated, and the returned crypto
// line goes into the answer.
func (c *InboundCall) reofferSRTP(req *gosip.Request, offer *Media) ([]Crypto, error) {
	sdes, err := c.srv.negotiateSRTP(req, offer, c.sdes, true)
	if err != nil {
		return nil, err
	}
	c.sdes = sdes
	return sdes.answerCrypto(), nil
}
