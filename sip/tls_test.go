package sip

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"

	"github.com/supportline/ivr/internal/testcert"
)

// startTLSServer runs a Server with a TLS listener (a throwaway CA and
// certificate for 127.0.0.1) and the given SRTP settings.
func startTLSServer(t *testing.T, h Handler, mod func(*ServerConfig)) (*Server, testcert.Files) {
	t.Helper()
	pki := testcert.New(t, "sip")
	conf, err := LoadServerTLS(pki.Cert, pki.Key, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	cfg := ServerConfig{Addr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", TLS: conf, Log: quietLog()}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ctx) }()
	<-s.Ready()
	t.Cleanup(func() { cancel(); <-done })
	return s, pki
}

func newTLSPhone(t *testing.T, caFile string) *Phone {
	t.Helper()
	conf, err := ClientTLS(caFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPhone(PhoneConfig{Transport: "tls", TLS: conf, From: "15550100", Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func srtpOffer(t *testing.T) (LocalMedia, []Crypto) {
	t.Helper()
	cr, err := NewCryptoOffer()
	if err != nil {
		t.Fatal(err)
	}
	local := offer(pcmu, event)
	local.Crypto = cr
	return local, cr
}

// TestTLSCallWithSRTP: a call over TLS offering SRTP is answered with
// RTP/SAVP and a fresh key of the server's; the server's Contact names the
// TLS listener; re-INVITEs (hold, resume with a new key) keep SRTP; a
// re-offer dropping SRTP gets 488; the server's BYE comes back over the
// caller's own TLS connection.
func TestTLSCallWithSRTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	keys := make(chan *SDES, 8)
	hangup := make(chan struct{})
	srv, pki := startTLSServer(t, answerer(LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: 30000}, func(c *InboundCall) {
		keys <- c.SRTP()
		go func() {
			for {
				select {
				case <-c.MediaChanged():
					keys <- c.SRTP()
				case <-hangup:
					c.Hangup(context.Background())
				case <-c.Context().Done():
					return
				}
			}
		}()
	}), nil)
	local, offered := srtpOffer(t)
	call, err := newTLSPhone(t, pki.CA).Dial(ctx, "sip:ivr@"+srv.TLSAddr().String()+";transport=tls", local, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(ctx)
	got, err := AcceptCryptoAnswer(offered, call.Answer)
	if err != nil {
		t.Fatal(err)
	}
	first := <-keys
	if got.Tag != 1 || got.Suite != SuiteAES128SHA1_80 || !bytes.Equal(got.RemoteKey, first.LocalKey) ||
		!bytes.Equal(first.RemoteKey, offered[0].Key) {
		t.Fatalf("answer crypto %d %s does not match the server's keys", got.Tag, got.Suite)
	}
	contact := call.dialog.InviteResponse.Contact().Address
	if p, _ := contact.UriParams.Get("transport"); p != "tls" || contact.Port != int(srv.TLSAddr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()) {
		t.Errorf("Contact %s: want the TLS listener with transport=tls", contact.String())
	}

	hold := local
	hold.Direction = SendOnly
	if _, err := call.Reinvite(ctx, hold); err != nil {
		t.Fatalf("hold: %v", err)
	}
	if k := <-keys; k == nil || !bytes.Equal(k.LocalKey, first.LocalKey) || !bytes.Equal(k.RemoteKey, first.RemoteKey) {
		t.Errorf("hold changed the keys")
	}
	resume, _ := srtpOffer(t) // new keys
	answer, err := call.Reinvite(ctx, resume)
	if err != nil {
		t.Fatalf("resume with new keys: %v", err)
	}
	if k := <-keys; k == nil || !bytes.Equal(k.RemoteKey, resume.Crypto[0].Key) {
		t.Errorf("server did not take the new key")
	}
	if _, err := AcceptCryptoAnswer(resume.Crypto, answer); err != nil {
		t.Errorf("re-INVITE answer: %v", err)
	}
	if _, err := call.Reinvite(ctx, offer(pcmu, event)); err == nil || !strings.Contains(err.Error(), "488") {
		t.Errorf("dropping SRTP mid-call: %v, want 488", err)
	}
	close(hangup)
	select {
	case <-call.Context().Done():
		if !errors.Is(context.Cause(call.Context()), ErrRemoteHangup) {
			t.Errorf("call ended by %v, want the server's BYE", context.Cause(call.Context()))
		}
	case <-ctx.Done():
		t.Fatal("the server's BYE did not reach the TLS phone")
	}
}

// TestSRTPPolicy: which offers each policy takes, over which transport.
func TestSRTPPolicy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		name      string
		policy    SRTPPolicy
		insecure  bool
		transport string
		srtp      bool
		want      string // "" answered, else a piece of the refusal
	}{
		{"optional plain over udp", SRTPOptional, false, "udp", false, ""},
		{"optional srtp over udp refused", SRTPOptional, false, "udp", true, "only taken over TLS"},
		{"optional srtp over udp insecure", SRTPOptional, true, "udp", true, ""},
		{"optional srtp over tls", SRTPOptional, false, "tls", true, ""},
		{"optional plain over tls", SRTPOptional, false, "tls", false, ""},
		{"required plain over tls", SRTPRequired, false, "tls", false, "SRTP required"},
		{"required srtp over tls", SRTPRequired, false, "tls", true, ""},
		{"off srtp over tls", SRTPOff, false, "tls", true, "SRTP is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, pki := startTLSServer(t, answerer(LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: 30000}, nil),
				func(c *ServerConfig) { c.SRTP, c.SRTPInsecureSignalling = tt.policy, tt.insecure })
			local := offer(pcmu, event)
			if tt.srtp {
				local, _ = srtpOffer(t)
			}
			phone, target := newPhone(t, "udp"), srv.Addr().String()
			if tt.transport == "tls" {
				phone, target = newTLSPhone(t, pki.CA), "sip:ivr@"+srv.TLSAddr().String()
			}
			call, err := phone.Dial(ctx, target, local, nil)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				defer call.Hangup(ctx)
				if call.Answer.Secure() != tt.srtp {
					t.Errorf("answer is %s", call.Answer.Proto)
				}
				return
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != 488 || !strings.Contains(se.Warning, tt.want) {
				t.Errorf("got %v, want 488 with Warning %q", err, tt.want)
			}
		})
	}
}

// TestMalformedCrypto: every crypto line we cannot honour is a 488 with a
// Warning saying why, never a panic or a 500.
func TestMalformedCrypto(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, _ := startTLSServer(t, answerer(LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: 30000}, nil),
		func(c *ServerConfig) { c.SRTPInsecureSignalling = true })
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 30))
	tests := []struct{ name, line, want string }{
		{"unknown suite", "1 AES_256_CM_HMAC_SHA1_80 inline:" + key, "unsupported suite"},
		{"f8 suite", "1 F8_128_HMAC_SHA1_80 inline:" + key, "unsupported suite"},
		{"bad base64", "1 AES_CM_128_HMAC_SHA1_80 inline:!!!notbase64!!!", "not base64"},
		{"short key", "1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(make([]byte, 16)), "16 bytes, want 30"},
		{"mki", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^31|1:4", "MKI"},
		{"short lifetime", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^10", "lifetime"},
		{"bad lifetime", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|forever", "lifetime"},
		{"two keys", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key, "more than one key"},
		{"session param", "1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNENCRYPTED_SRTP", "UNENCRYPTED_SRTP"},
		{"not inline", "1 AES_CM_128_HMAC_SHA1_80 uri:http://x/" + key, "want inline"},
		{"no key", "1 AES_CM_128_HMAC_SHA1_80", "want TAG SUITE"},
		{"bad tag", "x AES_CM_128_HMAC_SHA1_80 inline:" + key, "tag"},
		{"bare key", "1 AES_CM_128_HMAC_SHA1_80 " + key, "want inline"},
		{"two fields", "1 inline:" + key, "2 fields"},
		{"no crypto", "", "without a=crypto"},
	}
	phone := newPhone(t, "udp")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
				"m=audio 40000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
			if tt.line != "" {
				body += "a=crypto:" + tt.line + "\r\n"
			}
			_, err := phone.dialRaw(ctx, srv.Addr().String(), []byte(body))
			var se *StatusError
			if !errors.As(err, &se) || se.Code != 488 || !strings.Contains(se.Warning, tt.want) {
				t.Errorf("got %v, want 488 with Warning containing %q", err, tt.want)
			}
			if se != nil && strings.Contains(se.Warning, key[:16]) {
				t.Errorf("Warning echoes key material: %s", se.Warning)
			}
		})
	}
	// An acceptable line after a bad one is chosen (RFC 4568 §7.1.1).
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n" +
		"a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + key + "\r\na=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:" + key + "|2^31 WSH=64\r\n"
	call, err := phone.dialRaw(ctx, srv.Addr().String(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(ctx)
	if lines := cryptoLines(call.Answer); len(lines) != 1 || !strings.HasPrefix(lines[0], "7 AES_CM_128_HMAC_SHA1_32 inline:") {
		t.Errorf("answer crypto %q, want tag 7", lines)
	}
}

// TestTLSUntrustedCertificate: a phone that does not trust the server's CA
// fails the handshake with an error saying so.
func TestTLSUntrustedCertificate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, _ := startTLSServer(t, answerer(LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: 30000}, nil), nil)
	other := testcert.New(t, "other")
	_, err := newTLSPhone(t, other.CA).Dial(ctx, "sip:ivr@"+srv.TLSAddr().String(), offer(pcmu), nil)
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("dial with an untrusted certificate: %v", err)
	}
}

// TestTLSConfigErrors: missing, unreadable and mismatched files are clear
// start-up errors.
func TestTLSConfigErrors(t *testing.T) {
	a, b := testcert.New(t, "a"), testcert.New(t, "b")
	junk := t.TempDir() + "/junk.pem"
	os.WriteFile(junk, []byte("not pem"), 0o600)
	tests := []struct{ name, cert, key, want string }{
		{"no files", "", "", "needs both"},
		{"missing cert", a.Cert + ".nope", a.Key, "no such file"},
		{"missing key", a.Cert, a.Key + ".nope", "no such file"},
		{"mismatched", a.Cert, b.Key, "does not match"},
		{"junk", junk, a.Key, "failed to find any PEM data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadServerTLS(tt.cert, tt.key, nil)
			if !errors.Is(err, ErrTLSConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := ClientTLS(junk); !errors.Is(err, ErrTLSConfig) {
		t.Errorf("CA file without certificates: %v", err)
	}
}

// dialRaw is Dial with a ready-made SDP body, for offers LocalMedia
// cannot write (malformed crypto lines).
func (p *Phone) dialRaw(ctx context.Context, target string, body []byte) (*OutboundCall, error) {
	var uri gosip.Uri
	if err := gosip.ParseUri("sip:ivr@"+target, &uri); err != nil {
		return nil, err
	}
	from := &gosip.FromHeader{Address: gosip.Uri{Scheme: "sip", User: p.cfg.From, Host: p.host, Port: p.port},
		Params: gosip.NewParams()}
	from.Params.Add("tag", gosip.GenerateTagN(16))
	ctype := gosip.ContentTypeHeader("application/sdp")
	d, err := p.cache.Invite(ctx, uri, body, from, &ctype)
	if err != nil {
		return nil, err
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		d.Close()
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return nil, responseError(de.Res)
		}
		return nil, err
	}
	answer, err := ParseSDP(d.InviteResponse.Body())
	if err != nil {
		return nil, err
	}
	c := &OutboundCall{ID: callID(d.InviteRequest), Answer: answer, phone: p, dialog: d, origin: NewOrigin()}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	p.mu.Lock()
	p.calls[c.ID] = c
	p.mu.Unlock()
	return c, d.Ack(ctx)
}

// TestSIPSContact: an INVITE to a sips: URI is answered with a sips:
// Contact on the TLS listener (RFC 3261 §8.1.1.8).
func TestSIPSContact(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, pki := startTLSServer(t, answerer(LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: 30000}, nil), nil)
	call, err := newTLSPhone(t, pki.CA).Dial(ctx, "sips:ivr@"+srv.TLSAddr().String(), offer(pcmu), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(ctx)
	contact := call.dialog.InviteResponse.Contact().Address
	if contact.Scheme != "sips" {
		t.Errorf("Contact %s, want sips:", contact.String())
	}
	if via := call.dialog.InviteResponse.Via(); via == nil || !strings.EqualFold(via.Transport, "TLS") {
		t.Errorf("Via %v, want SIP/2.0/TLS", via)
	}
}

// TestCertReload: a renewed certificate is served after the next check; a
// broken renewal keeps the old one.
func TestCertReload(t *testing.T) {
	a, b := testcert.New(t, "a"), testcert.New(t, "b")
	dir := t.TempDir()
	cert, key := dir+"/cert.pem", dir+"/key.pem"
	cp := func(from, to string) {
		t.Helper()
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cp(a.Cert, cert)
	cp(a.Key, key)
	r, err := newCertReloader(cert, key, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	leaf := func() []byte {
		t.Helper()
		r.mu.Lock()
		r.checked = time.Time{} // the check period is over
		r.mu.Unlock()
		c, err := r.getCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Certificate[0]
	}
	want := func(files testcert.Files) []byte {
		t.Helper()
		c, err := tls.LoadX509KeyPair(files.Cert, files.Key)
		if err != nil {
			t.Fatal(err)
		}
		return c.Certificate[0]
	}
	if !bytes.Equal(leaf(), want(a)) {
		t.Fatal("not serving the first certificate")
	}
	cp(b.Cert, cert)
	cp(b.Key, key)
	os.Chtimes(cert, time.Now(), time.Now().Add(time.Second)) // a new stamp even on a coarse clock
	if !bytes.Equal(leaf(), want(b)) {
		t.Error("renewed certificate not served")
	}
	os.WriteFile(cert, []byte("half-written"), 0o600)
	if !bytes.Equal(leaf(), want(b)) {
		t.Error("a broken renewal replaced the working certificate")
	}
}
