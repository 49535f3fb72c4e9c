package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/supportline/ivr/store"
)

type rawUA struct {
	t    *testing.T
	conn *net.UDPConn
	srv  string
	n    int
}

func newRawUA(t *testing.T, src string, srv *Server) *rawUA {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(src), 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawUA{t: t, conn: conn, srv: srv.Addr().String()}
}

func (u *rawUA) register(user, extra string, wait time.Duration) string {
	u.n++
	local := u.conn.LocalAddr().String()
	msg := fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-r%d\r\n"+
		"From: <sip:%s@%s>;tag=f%d\r\nTo: <sip:%s@%s>\r\nCall-ID: reg-%s\r\nCSeq: %d REGISTER\r\n"+
		"Max-Forwards: 70\r\nContact: <sip:%s@%s>\r\n%sContent-Length: 0\r\n\r\n",
		u.srv, local, u.n, user, u.srv, u.n, user, u.srv, local, u.n, user, local, extra)
	return u.send(msg, wait)
}

func (u *rawUA) send(msg string, wait time.Duration) string {
	addr, _ := net.ResolveUDPAddr("udp", u.srv)
	if _, err := u.conn.WriteToUDP([]byte(msg), addr); err != nil {
		u.t.Fatal(err)
	}
	buf := make([]byte, 8192)
	for {
		u.conn.SetReadDeadline(time.Now().Add(wait))
		n, err := u.conn.Read(buf)
		if err != nil {
			return ""
		}
		if res := string(buf[:n]); !strings.HasPrefix(res, "SIP/2.0 1") {
			return res
		}
	}
}

func header(msg, name string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func authorize(t *testing.T, res, user, password, uri string, nc int) string {
	t.Helper()
	var md5chal string
	for _, l := range strings.Split(res, "\r\n") {
		if v, ok := strings.CutPrefix(l, "WWW-Authenticate: "); ok && strings.Contains(v, "MD5") {
			md5chal = v
		}
	}
	chal, err := digest.ParseChallenge(md5chal)
	if err != nil {
		t.Fatalf("challenge %q: %v", md5chal, err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: uri, Username: user, Password: password, Count: nc})
	if err != nil {
		t.Fatal(err)
	}
	return "Authorization: " + cred.String() + "\r\n"
}

func statusLine(res string) string { l, _, _ := strings.Cut(res, "\r\n"); return l }

func shape(res string) string {
	head, body, _ := strings.Cut(res, "\r\n\r\n")
	var names []string
	for i, l := range strings.Split(head, "\r\n") {
		if i == 0 {
			names = append(names, l)
			continue
		}
		k, _, _ := strings.Cut(l, ":")
		names = append(names, k)
	}
	return strings.Join(names, "|") + "|body=" + body
}

func TestDigestRegisterMD5(t *testing.T) {
	clk := newTestClock()
	srv := secureServer(t, clk, GuardConfig{BanAfter: 100}, answerer(offer().withPort(30000), nil))
	ua := newRawUA(t, "127.0.0.2", srv)
	uri := "sip:" + srv.Addr().String()
	const wait = 3 * time.Second

	chal := ua.register("alice", "", wait)
	if statusLine(chal) != "SIP/2.0 401 Unauthorized" || !strings.Contains(chal, "SHA-256") || !strings.Contains(chal, `qop="auth"`) {
		t.Fatalf("no challenge:\n%s", chal)
	}
	ok := ua.register("alice", authorize(t, chal, "alice", "wonderland-7", uri, 1), wait)
	if statusLine(ok) != "SIP/2.0 200 OK" || !strings.Contains(header(ok, "Contact"), "expires=3600") {
		t.Fatalf("register:\n%s", ok)
	}
	if got := srv.Registrations("alice"); len(got) != 1 {
		t.Fatalf("bindings %+v", got)
	}

	t.Run("replayed nc", func(t *testing.T) {
		auth := authorize(t, chal, "alice", "wonderland-7", uri, 2)
		if got := statusLine(ua.register("alice", auth, wait)); got != "SIP/2.0 200 OK" {
			t.Fatalf("nc=2: %s", got)
		}
		res := ua.register("alice", auth, wait)
		if statusLine(res) != "SIP/2.0 401 Unauthorized" || !strings.Contains(res, "stale=true") {
			t.Errorf("replay of nc=2 answered:\n%s", res)
		}
	})
	t.Run("unknown user and wrong password look the same", func(t *testing.T) {
		c1 := ua.register("alice", "", wait)
		wrong := ua.register("alice", authorize(t, c1, "alice", "not-her-password", uri, 1), wait)
		c2 := ua.register("nobody", "", wait)
		unknown := ua.register("nobody", authorize(t, c2, "nobody", "wonderland-7", uri, 1), wait)
		if statusLine(wrong) != "SIP/2.0 403 Forbidden" || shape(wrong) != shape(unknown) {
			t.Errorf("wrong password:\n%s\nunknown user:\n%s", wrong, unknown)
		}
		if shape(c1) != shape(c2) {
			t.Errorf("challenges differ:\n%s\n%s", c1, c2)
		}
	})
	t.Run("stale nonce", func(t *testing.T) {
		c := ua.register("alice", "", wait)
		clk.Advance(6 * time.Minute)
		res := ua.register("alice", authorize(t, c, "alice", "wonderland-7", uri, 1), wait)
		if statusLine(res) != "SIP/2.0 401 Unauthorized" || !strings.Contains(res, "stale=true") {
			t.Fatalf("expired nonce:\n%s", res)
		}
		// The fresh challenge of the stale answer works.
		if got := statusLine(ua.register("alice", authorize(t, res, "alice", "wonderland-7", uri, 1), wait)); got != "SIP/2.0 200 OK" {
			t.Errorf("after stale: %s", got)
		}
	})
	t.Run("nonce from another address", func(t *testing.T) {
		c := ua.register("alice", "", wait)
		other := newRawUA(t, "127.0.0.9", srv)
		res := other.register("alice", authorize(t, c, "alice", "wonderland-7", uri, 1), wait)
		if !strings.Contains(res, "stale=true") {
			t.Errorf("foreign nonce:\n%s", res)
		}
	})
}

func TestRegisterBindUnbindExpiry(t *testing.T) {
	clk := newTestClock()
	srv := secureServer(t, clk, GuardConfig{}, answerer(offer().withPort(30000), nil))
	p := phoneAt(t, "127.0.0.2", "alice", "wonderland-7")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	target := srv.Addr().String()

	got, err := p.Register(ctx, target, 2*time.Hour)
	if err != nil || got != time.Hour {
		t.Fatalf("register 2h: granted %v, %v (want capped to 1h)", got, err)
	}
	if bs := srv.Registrations("alice"); len(bs) != 1 || !strings.Contains(bs[0].Contact, "127.0.0.2") {
		t.Fatalf("bindings %+v", bs)
	}
	_, err = p.Register(ctx, target, 30*time.Second)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 423 || !strings.Contains(se.Warning, "60") {
		t.Errorf("register 30s: %v, want 423 with Min-Expires 60", err)
	}
	clk.Advance(time.Hour + time.Second)
	if bs := srv.Registrations("alice"); len(bs) != 0 {
		t.Errorf("after expiry: %+v", bs)
	}
	if _, err := p.Register(ctx, target, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Register(ctx, target, 0); err != nil {
		t.Fatal(err)
	}
	if bs := srv.Registrations("alice"); len(bs) != 0 {
		t.Errorf("after unregister: %+v", bs)
	}
	bad := phoneAt(t, "127.0.0.2", "alice", "nope-nope")
	if _, err := bad.Register(ctx, target, time.Hour); !errors.As(err, &se) || se.Code != 403 {
		t.Errorf("wrong password: %v", err)
	}
	if st := srv.SecurityStats(); st.Registrations != 0 || st.Rejected[ReasonIntervalShort] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRefusalTimingSimilar(t *testing.T) {
	st, err := store.Open(context.Background(), t.TempDir(), store.WithLogger(quietLog()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.AddSIPUser(context.Background(), "alice", "ivr", "wonderland-7777"); err != nil {
		t.Fatal(err)
	}
	clk := newTestClock()
	gc := GuardConfig{Trunks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, BanAfter: 10000, Rate: 10000, Burst: 10000, Now: clk.Now}
	srv, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Log: quietLog(), Guard: &gc, Auth: &AuthConfig{Users: st}},
		answerer(offer().withPort(30000), nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	<-srv.Ready()
	ua := newRawUA(t, "127.0.0.2", srv)
	uri := "sip:" + srv.Addr().String()
	const n = 40
	var wrong, unknown []time.Duration
	for i := 0; i < n; i++ {
		for _, user := range []string{"alice", "nobody"} {
			auth := authorize(t, ua.register(user, "", 3*time.Second), user, "not-the-password", uri, 1)
			t0 := time.Now()
			res := ua.register(user, auth, 3*time.Second)
			d := time.Since(t0)
			if statusLine(res) != "SIP/2.0 403 Forbidden" {
				t.Fatalf("%s: %q", user, statusLine(res))
			}
			if user == "alice" {
				wrong = append(wrong, d)
			} else {
				unknown = append(unknown, d)
			}
		}
	}
	mw, mu := median(wrong), median(unknown)
	t.Logf("median time to 403: wrong password %v, unknown user %v", mw, mu)
	if mw > 5*mu || mu > 5*mw {
		t.Errorf("refusal times differ: wrong password %v, unknown user %v", mw, mu)
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func TestRawNC(t *testing.T) {
	tests := []struct {
		header string
		nc     int
		want   string
	}{
		{`Digest username="a", nc=0000000A, cnonce="x"`, 10, "0000000A"},
		{`Digest username="a",nc=00000001`, 1, "00000001"},
		{`Digest username="a", cnonce="nc=1"`, 1, "00000001"},
		{`Digest username="a", nc=1`, 1, "00000001"},
	}
	for _, tt := range tests {
		if got := rawNC(tt.header, tt.nc); got != tt.want {
			t.Errorf("rawNC(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}
