package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/supportline/ivr/internal/testcert"
	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
	"github.com/supportline/ivr/softphone"
)

// withTLS gives the test server a TLS listener with a throwaway CA.
func withTLS(t *testing.T, pki testcert.Files) func(*Config) {
	return func(c *Config) {
		c.SIPTLSAddr, c.SIPTLSCert, c.SIPTLSKey = "127.0.0.1:0", pki.Cert, pki.Key
	}
}

// wireRelay is a UDP relay between a caller's RTP session and the server:
// the caller's SDP names the relay, so every RTP packet of the call crosses
// it and is captured as it was on the wire. It can also inject packets
// towards the server.
type wireRelay struct {
	conn   *net.UDPConn
	caller netip.AddrPort
	server netip.AddrPort // set before the caller sends

	mu               sync.Mutex
	toServer, toCall [][]byte
	done             chan struct{}
}

func newWireRelay(t *testing.T, caller netip.AddrPort) *wireRelay {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return &wireRelay{conn: conn, caller: caller, done: make(chan struct{})}
}

// close stops the relay (after run was started).
func (r *wireRelay) close() {
	r.conn.Close()
	<-r.done
}

func (r *wireRelay) addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (r *wireRelay) run() {
	defer close(r.done)
	buf := make([]byte, 1500)
	for {
		n, src, err := r.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		pkt := bytes.Clone(buf[:n])
		to := r.caller
		r.mu.Lock()
		if src == r.caller {
			to = r.server
			r.toServer = append(r.toServer, pkt)
		} else {
			r.toCall = append(r.toCall, pkt)
		}
		r.mu.Unlock()
		_, _ = r.conn.WriteToUDPAddrPort(pkt, to)
	}
}

// inject sends forged packets (random payload under the caller's SSRC and
// fresh sequence numbers: they fail authentication) and replays of packets
// the caller already sent.
func (r *wireRelay) inject(t *testing.T, n int) {
	t.Helper()
	r.mu.Lock()
	sent := append([][]byte(nil), r.toServer...)
	r.mu.Unlock()
	if len(sent) < n {
		t.Fatalf("only %d packets from the caller to replay", len(sent))
	}
	last := sent[len(sent)-1]
	for i := range n {
		forged := make([]byte, len(last))
		copy(forged, last[:12])
		rand.Read(forged[12:])
		binary.BigEndian.PutUint16(forged[2:], binary.BigEndian.Uint16(last[2:])+uint16(1000+i))
		r.conn.WriteToUDPAddrPort(forged, r.server)
		r.conn.WriteToUDPAddrPort(sent[i], r.server)
	}
}

// TestSRTPOverTLSOnTheWire calls the server over TLS with SRTP through a
// relay that captures the RTP: the prompts arrive decrypted at the caller,
// the caller's RFC 4733 key press (encrypted like the audio) works the
// menu, forged and replayed packets are dropped and counted without ending
// the call, and nothing on the wire is plain G.711.
func TestSRTPOverTLSOnTheWire(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/emiago/sipgo/sip.(*TransportUDP).readUDPConnection"))
	t.Run("menu", srtpOnTheWire) // a subtest: the server's cleanup runs before the leak check
}

// srtpCaller is a test caller over TLS with SRTP whose media goes through
// a wireRelay.
type srtpCaller struct {
	phone  *sip.Phone
	call   *sip.OutboundCall
	local  sip.LocalMedia
	keys   media.SRTPKeys
	crypto *media.SRTP
	sess   *media.Session
	rec    *recorder
	relay  *wireRelay
	done   chan error
}

func dialSRTP(t *testing.T, ctx context.Context, srv *Server, pki testcert.Files) *srtpCaller {
	t.Helper()
	conf, err := sip.ClientTLS(pki.CA)
	if err != nil {
		t.Fatal(err)
	}
	c := &srtpCaller{rec: &recorder{}, done: make(chan error, 1)}
	if c.phone, err = sip.NewPhone(sip.PhoneConfig{Transport: "tls", TLS: conf, From: "15550100", Log: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		t.Fatal(err)
	}
	ports, err := media.NewPortAllocator(netip.MustParseAddr("127.0.0.1"), 33000, 33998)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ports.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	c.relay = newWireRelay(t, pair.RTPAddr())
	offered, err := sip.NewCryptoOffer()
	if err != nil {
		t.Fatal(err)
	}
	c.local = sip.LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: int(c.relay.addr().Port()), Crypto: offered,
		Formats: []sip.Format{{PayloadType: 0, Name: "PCMU", ClockRate: 8000}, {PayloadType: 101, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-16"}}}
	if c.call, err = c.phone.Dial(ctx, "sip:ivr@"+srv.sip.TLSAddr().String()+";transport=tls", c.local, nil); err != nil {
		pair.Close()
		t.Fatal(err)
	}
	keys, err := sip.AcceptCryptoAnswer(offered, c.call.Answer)
	if err != nil {
		t.Fatal(err)
	}
	c.relay.server = c.call.Answer.RTPAddr()
	go c.relay.run()
	c.keys = media.SRTPKeys{Suite: media.SRTPSuite(keys.Suite), Local: keys.LocalKey, Remote: keys.RemoteKey}
	if c.crypto, err = media.NewSRTP(c.keys); err != nil {
		t.Fatal(err)
	}
	c.sess, err = media.NewSession(media.SessionConfig{Ports: pair, Remote: c.relay.addr(), Codec: media.PCMU, EventPT: 101, Sink: c.rec, Crypto: c.crypto})
	if err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.sess.Run(c.call.Context()) }()
	return c
}

func (c *srtpCaller) close() {
	c.call.Hangup(context.Background())
	<-c.done
	c.sess.Close()
	c.relay.close()
	c.phone.Close()
}

// waitVoiced waits until the caller heard secs of prompt audio.
func (c *srtpCaller) waitVoiced(t *testing.T, ctx context.Context, secs float64) {
	t.Helper()
	for v := c.rec.voiced(); v < secs; v = c.rec.voiced() {
		select {
		case <-ctx.Done():
			t.Fatalf("heard %.1f s of prompt audio over SRTP, want %.1f", v, secs)
		case <-time.After(50 * time.Millisecond): // bounded poll of the recording
		}
	}
}

// waitBye waits for the server's BYE.
func (c *srtpCaller) waitBye(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-c.call.Context().Done():
		if !errors.Is(context.Cause(c.call.Context()), sip.ErrRemoteHangup) {
			t.Errorf("call ended by %v, want the server's BYE after the menu", context.Cause(c.call.Context()))
		}
	case <-ctx.Done():
		t.Fatal("the server did not finish the menu and hang up")
	}
}

// waitLog waits for the server to log want.
func waitLog(t *testing.T, ctx context.Context, logs *logBuffer, want string) {
	t.Helper()
	for !strings.Contains(logs.String(), want) {
		select {
		case <-ctx.Done():
			t.Fatalf("server log lacks %q:\n%s", want, logs.String())
		case <-time.After(50 * time.Millisecond): // bounded poll of the log
		}
	}
}

func srtpOnTheWire(t *testing.T) {
	pki := testcert.New(t, "server")
	srv, logs := startServer(t, withTLS(t, pki))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := dialSRTP(t, ctx, srv, pki)
	defer c.close()
	relay, sess, rec := c.relay, c.sess, c.rec
	c.waitVoiced(t, ctx, 1.5) // the welcome prompt, decrypted
	relay.inject(t, 20)
	if err := sess.SendDTMF(ctx, "1", 120*time.Millisecond, 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	c.waitBye(t, ctx)
	waitLog(t, ctx, logs, "srtp stats") // logged once the server's call has ended
	out := logs.String()
	for _, want := range []string{"digit=1 source=rfc4733", "SRTP packet failed authentication", "suite=AES_CM_128_HMAC_SHA1_80 auth_failures=20 replays=20"} {
		if !strings.Contains(out, want) {
			t.Errorf("server log lacks %q:\n%s", want, out)
		}
	}
	if v := rec.voiced(); v < 3 {
		t.Errorf("heard %.1f s of prompts, want welcome, the balance and goodbye", v)
	}
	checkWire(t, relay, c.keys)
}

// checkWire checks the captured packets: every audio packet carries an
// 80-bit tag (12 + 160 + 10 bytes), decrypts with the right key, and its
// payload on the wire is not the G.711 it decrypts to.
func checkWire(t *testing.T, r *wireRelay, caller media.SRTPKeys) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	server := media.SRTPKeys{Suite: caller.Suite, Local: caller.Remote, Remote: caller.Local}
	for _, dir := range []struct {
		name string
		pkts [][]byte
		keys media.SRTPKeys // the receiver's
	}{{"caller->server", r.toServer, server}, {"server->caller", r.toCall, caller}} {
		rx, err := media.NewSRTP(dir.keys)
		if err != nil {
			t.Fatal(err)
		}
		audio, plainOnWire := 0, 0
		for _, p := range dir.pkts {
			if len(p) < 12 || p[1]&0x7f != 0 {
				continue // events, and the injected packets
			}
			wire := bytes.Clone(p)
			plain, err := rx.Unprotect(p)
			if err != nil {
				continue // injected forgeries and replays
			}
			audio++
			if len(wire) != 12+160+10 {
				t.Fatalf("%s: audio packet of %d bytes, want 182 (80-bit tag)", dir.name, len(wire))
			}
			if bytes.Equal(wire[12:172], plain[12:]) {
				plainOnWire++
			}
		}
		if audio < 50 || plainOnWire > 0 {
			t.Errorf("%s: %d audio packets decrypted, %d sent in the clear", dir.name, audio, plainOnWire)
		}
	}
}

// TestSoftphoneTLSSRTPThroughMenu is `ivr call --transport tls --srtp`
// against the server: scripted DTMF over SRTP works the menu and the
// recording holds the prompts.
func TestSoftphoneTLSSRTPThroughMenu(t *testing.T) {
	pki := testcert.New(t, "server")
	srv, logs := startServer(t, func(c *Config) { withTLS(t, pki)(c); c.SRTP = sip.SRTPRequired })
	dir := t.TempDir()
	scriptPath := filepath.Join(dir, "menu.txt")
	os.WriteFile(scriptPath, []byte("wait-silence 40\ndtmf 2\nwait-silence 20\n"), 0o644)
	script, err := softphone.ParseScript(scriptPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rec := filepath.Join(dir, "out.wav")
	res, err := softphone.Dial(ctx, softphone.Config{
		Target: "sip:ivr@" + srv.sip.TLSAddr().String() + ";transport=tls", TLSCA: pki.CA, SRTP: true,
		From: "15550100", Record: rec, RTPLow: 34000, RTPHigh: 34998,
	}, script, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.SRTP != "AES_CM_128_HMAC_SHA1_80" || res.HangupBy != "remote" {
		t.Errorf("srtp %q, hangup by %q", res.SRTP, res.HangupBy)
	}
	if !strings.Contains(logs.String(), "digit=2 source=rfc4733") || !strings.Contains(logs.String(), "transport=TLS") {
		t.Errorf("server did not take key 2 over TLS:\n%s", logs.String())
	}
	audio, err := media.ReadWAVFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if v := (&recorder{samples: audio.Samples}).voiced(); v < 5 {
		t.Errorf("recording has %.1f s of prompt audio", v)
	}

	// The required policy refuses the same softphone without --srtp.
	_, err = softphone.Dial(ctx, softphone.Config{
		Target: "sip:ivr@" + srv.sip.TLSAddr().String() + ";transport=tls", TLSCA: pki.CA,
		From: "15550100", RTPLow: 34000, RTPHigh: 34998,
	}, nil, nil)
	var se *sip.StatusError
	if !errors.As(err, &se) || se.Code != 488 || !strings.Contains(se.Warning, "SRTP required") {
		t.Errorf("plain RTP under --srtp=required: %v, want 488", err)
	}
}

// TestTLSConfigStartupErrors: a bad certificate or policy stops New.
func TestTLSConfigStartupErrors(t *testing.T) {
	pki := testcert.New(t, "server")
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"missing key", func(c *Config) { c.SIPTLSAddr, c.SIPTLSCert = "127.0.0.1:0", pki.Cert }, "--sip-tls-key"},
		{"unreadable cert", func(c *Config) {
			c.SIPTLSAddr, c.SIPTLSCert, c.SIPTLSKey = "127.0.0.1:0", pki.Cert+".gone", pki.Key
		}, "no such file"},
		{"mismatched", func(c *Config) {
			other := testcert.New(t, "other")
			c.SIPTLSAddr, c.SIPTLSCert, c.SIPTLSKey = "127.0.0.1:0", pki.Cert, other.Key
		}, "does not match"},
		{"required without tls", func(c *Config) { c.SRTP = sip.SRTPRequired }, "--srtp=required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Defaults()
			cfg.SIPAddr, cfg.HTTPAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
			cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
			tt.mod(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSRTPReinviteNewKeys: hold, then resume with a new key, over TLS and
// SRTP: the server keeps its own key, takes the caller's new one (RFC 4568
// §7.1.4), and the key press sent under the new key works the menu.
func TestSRTPReinviteNewKeys(t *testing.T) {
	pki := testcert.New(t, "server")
	srv, logs := startServer(t, withTLS(t, pki))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := dialSRTP(t, ctx, srv, pki)
	defer c.close()
	c.waitVoiced(t, ctx, 1)

	hold := c.local
	hold.Direction = sip.SendOnly
	answer, err := c.call.Reinvite(ctx, hold)
	if err != nil {
		t.Fatalf("hold: %v", err)
	}
	if answer.Direction != sip.RecvOnly || !answer.Secure() {
		t.Errorf("hold answer %v %s, want recvonly RTP/SAVP", answer.Direction, answer.Proto)
	}
	waitLog(t, ctx, logs, "hold=true")

	resume := c.local
	if resume.Crypto, err = sip.NewCryptoOffer(); err != nil {
		t.Fatal(err)
	}
	if answer, err = c.call.Reinvite(ctx, resume); err != nil {
		t.Fatalf("resume with new keys: %v", err)
	}
	keys, err := sip.AcceptCryptoAnswer(resume.Crypto, answer)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keys.RemoteKey, c.keys.Remote) {
		t.Errorf("the server changed its key on a re-INVITE with the same suite")
	}
	if err := c.crypto.Rekey(media.SRTPKeys{Suite: media.SRTPSuite(keys.Suite), Local: keys.LocalKey, Remote: keys.RemoteKey}); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, logs, "hold=false")
	heard := c.rec.voiced()
	c.waitVoiced(t, ctx, heard+0.5) // prompts again after the resume
	if err := c.sess.SendDTMF(ctx, "1", 120*time.Millisecond, 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	c.waitBye(t, ctx)
	waitLog(t, ctx, logs, "srtp stats")
	if !strings.Contains(logs.String(), "digit=1 source=rfc4733") {
		t.Errorf("the key press under the new key was not taken:\n%s", logs.String())
	}
}
