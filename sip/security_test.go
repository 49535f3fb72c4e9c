package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/supportline/ivr/store"
)

// testClock is an injectable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Unix(1_800_000_000, 0)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// userTable is an in-memory DigestUsers keyed by name, holding HA1s only.
type userTable struct {
	realm string
	md5   map[string]string
	sha   map[string]string
}

func newUserTable(realm string, pw map[string]string) *userTable {
	u := &userTable{realm: realm, md5: map[string]string{}, sha: map[string]string{}}
	for name, p := range pw {
		u.md5[name] = DigestHA1(name, realm, p, false)
		u.sha[name] = DigestHA1(name, realm, p, true)
	}
	return u
}

func (u *userTable) DigestHA1(_ context.Context, user, realm string, sha bool) (string, bool, error) {
	if realm != u.realm {
		return "", false, nil
	}
	m := u.md5
	if sha {
		m = u.sha
	}
	h, ok := m[user]
	return h, ok, nil
}

// secureServer runs a server with a guard (trunk 127.0.0.1 only) and
// digest auth for alice/wonderland-7, on clk.
func secureServer(t *testing.T, clk *testClock, gc GuardConfig, h Handler) *Server {
	t.Helper()
	if gc.Trunks == nil {
		gc.Trunks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
	gc.Now = clk.Now
	users := newUserTable("ivr", map[string]string{"alice": "wonderland-7"})
	s, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Log: quietLog(), Guard: &gc,
		Auth: &AuthConfig{Realm: "ivr", Users: users, NonceTTL: 5 * time.Minute}}, h)
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
	return s
}

func phoneAt(t *testing.T, local, user, password string) *Phone {
	t.Helper()
	p, err := NewPhone(PhoneConfig{Local: local + ":0", From: user, AuthUser: user, AuthPassword: password, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dialCode(t *testing.T, p *Phone, srv *Server) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	call, err := p.Dial(ctx, "ivr@"+srv.Addr().String(), offer(pcmu), nil)
	if err == nil {
		_ = call.Hangup(ctx)
		return 200
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	t.Fatalf("dial: %v", err)
	return 0
}

func TestTrunkAllowlistAndDigestCalls(t *testing.T) {
	clk := newTestClock()
	srv := secureServer(t, clk, GuardConfig{}, answerer(offer().withPort(30000), nil))
	tests := []struct {
		name, src, user, pw string
		want                int
	}{
		{"trunk without credentials", "127.0.0.1", "trunk", "", 200},
		{"non-trunk without credentials", "127.0.0.2", "bob", "", 401},
		{"softphone user", "127.0.0.2", "alice", "wonderland-7", 200},
		{"wrong password", "127.0.0.3", "alice", "wrong-password", 403},
		{"unknown user", "127.0.0.3", "mallory", "wonderland-7", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dialCode(t, phoneAt(t, tt.src, tt.user, tt.pw), srv); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
	st := srv.SecurityStats()
	if st.AuthOK < 1 || st.AuthFailures != 2 || st.Rejected[ReasonAuthRequired] < 1 {
		t.Errorf("stats %+v", st)
	}
}

func (m LocalMedia) withPort(p int) LocalMedia {
	m.Addr, m.Port = netip.MustParseAddr("127.0.0.1"), p
	return m
}

// rawUA sends hand-made requests from one loopback source address.
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

// register sends a REGISTER for user with extra header lines and returns
// the final response (empty after wait with none).
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

// header returns the first value of header name in a raw message.
func header(msg, name string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// authorize answers the MD5 challenge of res for user/password.
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

// shape is a response without the values that differ per request: its
// status line and the names of its headers, in order.
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

func TestBanAndUnban(t *testing.T) {
	clk := newTestClock()
	srv := secureServer(t, clk, GuardConfig{BanAfter: 5, BanTime: 10 * time.Minute}, answerer(offer().withPort(30000), nil))
	bad := newRawUA(t, "127.0.0.66", srv)
	good := newRawUA(t, "127.0.0.2", srv)
	for i := 0; i < 5; i++ { // five unauthenticated REGISTERs: five challenges
		if res := bad.register("admin", "", 3*time.Second); statusLine(res) != "SIP/2.0 401 Unauthorized" {
			t.Fatalf("attempt %d: %q", i, statusLine(res))
		}
	}
	if !srv.Guard().Banned(netip.MustParseAddr("127.0.0.66")) {
		t.Fatal("not banned after 5 failures")
	}
	if res := bad.register("admin", "", 300*time.Millisecond); res != "" {
		t.Errorf("banned source answered: %q", statusLine(res))
	}
	if res := good.register("alice", "", 3*time.Second); statusLine(res) != "SIP/2.0 401 Unauthorized" {
		t.Errorf("other source: %q", statusLine(res))
	}
	st := srv.SecurityStats()
	if st.BansActive != 1 || st.BansTotal != 1 || st.Rejected[ReasonBanned] < 1 {
		t.Errorf("stats %+v", st)
	}
	clk.Advance(10*time.Minute + time.Second)
	if res := bad.register("admin", "", 3*time.Second); statusLine(res) != "SIP/2.0 401 Unauthorized" {
		t.Errorf("after the ban: %q", statusLine(res))
	}
	if st := srv.SecurityStats(); st.BansActive != 0 {
		t.Errorf("bans active %d", st.BansActive)
	}
}

func TestGuardRateLimit(t *testing.T) {
	clk := newTestClock()
	g, err := NewGuard(GuardConfig{Rate: 10, Burst: 5, BanAfter: 100, Now: clk.Now,
		Trunks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	admitted := 0
	for i := 0; i < 20; i++ {
		if g.admit(ip) {
			admitted++
		}
	}
	if admitted != 5 {
		t.Errorf("admitted %d of 20 at once, want the burst of 5", admitted)
	}
	clk.Advance(300 * time.Millisecond) // 3 tokens at 10/s
	admitted = 0
	for i := 0; i < 10; i++ {
		if g.admit(ip) {
			admitted++
		}
	}
	if admitted != 3 {
		t.Errorf("admitted %d after 300 ms, want 3", admitted)
	}
	for i := 0; i < 1000; i++ {
		if !g.admit(netip.MustParseAddr("10.1.2.3")) {
			t.Fatal("trunk rate limited")
		}
	}
	if st := g.Stats(); st.Rejected[ReasonRateLimited] != 22 {
		t.Errorf("rate limited %d, want 22", st.Rejected[ReasonRateLimited])
	}
}

func TestRateLimitOnTheWireBans(t *testing.T) {
	clk := newTestClock()
	srv := secureServer(t, clk, GuardConfig{Rate: 1, Burst: 3, BanAfter: 10}, answerer(offer().withPort(30000), nil))
	ua := newRawUA(t, "127.0.0.7", srv)
	opts := "OPTIONS sip:ivr@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-o%d\r\nFrom: <sip:x@x>;tag=%d\r\n" +
		"To: <sip:ivr@x>\r\nCall-ID: o%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	addr, _ := net.ResolveUDPAddr("udp", ua.srv)
	for i := 0; i < 13; i++ { // 3 within the burst, 10 over the rate
		ua.conn.WriteToUDP([]byte(fmt.Sprintf(opts, ua.srv, ua.conn.LocalAddr(), i, i, i)), addr)
	}
	answered := 0
	buf := make([]byte, 4096)
	for {
		ua.conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := ua.conn.Read(buf); err != nil {
			break
		}
		answered++
	}
	if answered != 3 {
		t.Errorf("%d OPTIONS answered, want the burst of 3", answered)
	}
	if !srv.Guard().Banned(netip.MustParseAddr("127.0.0.7")) {
		t.Errorf("not banned after 10 packets over the rate: %+v", srv.SecurityStats())
	}
}

func TestPerSourceCallCap(t *testing.T) {
	clk := newTestClock()
	srv := secureServer(t, clk, GuardConfig{CallsPerSource: 1}, answerer(offer().withPort(30000), nil))
	p := phoneAt(t, "127.0.0.2", "alice", "wonderland-7")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := p.Dial(ctx, "ivr@"+srv.Addr().String(), offer(pcmu), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Dial(ctx, "ivr@"+srv.Addr().String(), offer(pcmu), nil)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 486 || !strings.Contains(se.Warning, "too many calls") {
		t.Errorf("second call: %v, want 486 too many calls", err)
	}
	// A trunk is not capped per source.
	trunk := phoneAt(t, "127.0.0.1", "t", "")
	if got := dialCode(t, trunk, srv); got != 200 {
		t.Errorf("trunk call: %d", got)
	}
	if err := first.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return srv.Calls() == 0 })
	if got := dialCode(t, p, srv); got != 200 {
		t.Errorf("after hang-up: %d", got)
	}
}

// waitFor polls cond (on a ticker, with a bound) until it holds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("condition not met in 5 s")
		}
	}
}

func TestMalformedFromNonTrunk(t *testing.T) {
	clk := newTestClock()
	srv := secureServer(t, clk, GuardConfig{BanAfter: 3}, answerer(offer().withPort(30000), nil))
	ua := newRawUA(t, "127.0.0.8", srv)
	// A request that parses but is wrong still gets a clear error...
	res := ua.send("SUBSCRIBE sip:ivr@x SIP/2.0\r\nVia: SIP/2.0/UDP "+ua.conn.LocalAddr().String()+";branch=z9hG4bK-s1\r\n"+
		"From: <sip:x@x>;tag=1\r\nTo: <sip:ivr@x>\r\nCall-ID: s1\r\nCSeq: 1 SUBSCRIBE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", 3*time.Second)
	if statusLine(res) != "SIP/2.0 405 Method Not Allowed" {
		t.Errorf("subscribe: %q", statusLine(res))
	}
	// ...garbage gets nothing, and both count towards a ban.
	if res := ua.send("\x00\x01garbage\r\n\r\n", 200*time.Millisecond); res != "" {
		t.Errorf("garbage answered %q", res)
	}
	ua.send("GET / HTTP/1.0\r\n\r\n", 200*time.Millisecond)
	if !srv.Guard().Banned(netip.MustParseAddr("127.0.0.8")) {
		t.Errorf("not banned: %+v", srv.SecurityStats())
	}
	if st := srv.SecurityStats(); st.Rejected[ReasonMalformed] != 3 {
		t.Errorf("malformed %d, want 3", st.Rejected[ReasonMalformed])
	}
}

func TestDigestCallOverTCP(t *testing.T) {
	clk := newTestClock()
	srv := secureServer(t, clk, GuardConfig{}, answerer(offer().withPort(30000), nil))
	tests := []struct {
		name, src, user, pw string
		want                int
	}{
		{"trunk", "127.0.0.1", "trunk", "", 200},
		{"softphone user", "127.0.0.2", "alice", "wonderland-7", 200},
		{"wrong password", "127.0.0.3", "alice", "wrong-password", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPhone(PhoneConfig{Transport: "tcp", Local: tt.src + ":0", From: tt.user, AuthPassword: tt.pw, Log: quietLog()})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if got := dialCode(t, p, srv); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBannedTCPSourceIsCutOff(t *testing.T) {
	clk := newTestClock()
	srv := secureServer(t, clk, GuardConfig{BanAfter: 2}, answerer(offer().withPort(30000), nil))
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.66")}, Timeout: 3 * time.Second}
	conn, err := d.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	opts := "OPTIONS sip:ivr@x SIP/2.0\r\nVia: SIP/2.0/TCP " + conn.LocalAddr().String() + ";branch=z9hG4bK-t%d\r\n" +
		"From: <sip:x@x>;tag=1\r\nTo: <sip:ivr@x>\r\nCall-ID: t%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	fmt.Fprintf(conn, opts, 1, 1)
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	if n, err := conn.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
		t.Fatalf("before the ban: %q %v", buf[:n], err)
	}
	ip := netip.MustParseAddr("127.0.0.66")
	srv.Guard().Fail(ip, ReasonMalformed)
	srv.Guard().Fail(ip, ReasonMalformed)
	fmt.Fprintf(conn, opts, 2, 2)
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, err := conn.Read(buf); err == nil {
		t.Errorf("banned source's connection answered %q", buf[:n])
	}
	// A new connection from it is closed at once.
	c2, err := d.Dial("tcp", srv.Addr().String())
	if err == nil {
		defer c2.Close()
		fmt.Fprintf(c2, opts, 3, 3)
		c2.SetReadDeadline(time.Now().Add(3 * time.Second))
		if n, err := c2.Read(buf); err == nil {
			t.Errorf("new connection answered %q", buf[:n])
		}
	}
}

func TestParseTrunks(t *testing.T) {
	tests := []struct {
		in      []string
		want    string
		wantErr bool
	}{
		{[]string{"127.0.0.0/8", "::1"}, "[127.0.0.0/8 ::1/128]", false},
		{[]string{"192.0.2.7", ""}, "[192.0.2.7/32]", false},
		{[]string{"10.1.2.3/8"}, "[10.0.0.0/8]", false},
		{[]string{"::ffff:192.0.2.1"}, "[192.0.2.1/32]", false},
		{[]string{"example.com"}, "", true},
		{nil, "[]", false},
	}
	for _, tt := range tests {
		got, err := ParseTrunks(tt.in)
		if (err != nil) != tt.wantErr || err == nil && fmt.Sprint(got) != tt.want {
			t.Errorf("ParseTrunks(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// TestRefusalTimingSimilar: with the real store, a wrong password and an
// unknown user take about as long to refuse (the same lookup and hashing).
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

func TestGuardSourceTableBounded(t *testing.T) {
	clk := newTestClock()
	g, err := NewGuard(GuardConfig{MaxSources: 10, BanAfter: 2, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	banned := netip.MustParseAddr("192.0.2.200")
	g.Fail(banned, ReasonMalformed)
	g.Fail(banned, ReasonMalformed)
	for i := 1; i <= 9; i++ {
		g.admit(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}))
	}
	if st := g.Stats(); st.Sources != 10 {
		t.Fatalf("sources %d", st.Sources)
	}
	clk.Advance(2 * time.Minute) // past the ban window, within the ban
	g.admit(netip.MustParseAddr("198.51.100.1"))
	if st := g.Stats(); st.Sources != 2 || !g.Banned(banned) {
		t.Errorf("after the sweep: %d sources (want the banned one and the new one), banned %v", st.Sources, g.Banned(banned))
	}
	if _, err := NewGuard(GuardConfig{Rate: -1}); err == nil {
		t.Error("negative rate accepted")
	}
}
