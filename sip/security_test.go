package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
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
// register sends a REGISTER for user with extra header lines and returns
// the final response (empty after wait with none).
// header returns the first value of header name in a raw message.
// authorize answers the MD5 challenge of res for user/password.
// shape is a response without the values that differ per request: its
// status line and the names of its headers, in order.
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

// TestRefusalTimingSimilar: with the real store, a wrong password and an
// unknown user take about as long to refuse (the same lookup and hashing).
