package softphone

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
	"github.com/supportline/ivr/store"
)

// The scanner-flood test of issue 7. The CI run is small; a measured run:
//
//	go test -run TestScannerFlood -v ./softphone/ -args -flood.calls=1000 -flood.rate=200
var (
	floodCalls    = flag.Int("flood.calls", 200, "legitimate trunk calls per phase (idle, then under flood)")
	floodRate     = flag.Float64("flood.rate", 150, "bad requests a second from the flooder")
	floodCallRate = flag.Float64("flood.callrate", 50, "legitimate calls started a second")
)

const (
	flooderIP = "127.0.0.66"
	softIP    = "127.0.0.2" // an authenticated softphone user
	floodUser = "alice"
	floodPass = "wonderland-7777"
)

// startGuardedFarEnd is startFarEnd behind access control: trunk
// 127.0.0.1 only, digest users from a real store.
func startGuardedFarEnd(t *testing.T, f *farEnd, calls int) (*sip.Server, func()) {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.WithLogger(quietLog()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddSIPUser(context.Background(), floodUser, sip.DefaultRealm, floodPass); err != nil {
		t.Fatal(err)
	}
	f.DTMF = make(chan media.DTMF, 64)
	f.Ended = make(chan error, calls)
	srv, err := sip.NewServer(sip.ServerConfig{Addr: "127.0.0.1:0", Log: quietLog(),
		Guard: &sip.GuardConfig{Trunks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, CallsPerSource: 100,
			Rate: 100, Burst: 200}, // the softphone source places several calls a second
		Auth: &sip.AuthConfig{Users: st}}, sip.HandlerFunc(f.handle))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx) }()
	<-srv.Ready()
	return srv, func() { cancel(); <-done; st.Close() }
}

// flooder sends bad requests from flooderIP at rate until ctx ends: an
// unauthenticated REGISTER, an INVITE with made-up credentials, an OPTIONS
// probe and garbage, in turn.
type flooder struct {
	sent atomic.Int64
	got  atomic.Int64 // responses received
}

func (fl *flooder) run(ctx context.Context, target string, rate float64) error {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(flooderIP), 0)))
	if err != nil {
		return err
	}
	defer conn.Close()
	dst, _ := net.ResolveUDPAddr("udp", target)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // count answers until the socket closes
		defer wg.Done()
		buf := make([]byte, 8192)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
			fl.got.Add(1)
		}
	}()
	defer wg.Wait()
	defer conn.Close()
	// Every 10 ms, send what is due by then: the rate holds even when the
	// scheduler runs the loop late on a busy machine.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	local := conn.LocalAddr().String()
	start := time.Now()
	for i := 0; ; {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for due := int(rate * time.Since(start).Seconds()); i < due; i++ {
			if _, err := conn.WriteToUDP([]byte(badRequest(i, local, target)), dst); err != nil {
				return err
			}
			fl.sent.Add(1)
		}
	}
}

// badRequest is the i-th message of the flood.
func badRequest(i int, local, target string) string {
	head := func(method, extra string) string {
		return fmt.Sprintf("%s sip:100@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-fl%d\r\n"+
			"From: <sip:%d@%s>;tag=fl%d\r\nTo: <sip:100@%s>\r\nCall-ID: flood-%d\r\nCSeq: 1 %s\r\n"+
			"Max-Forwards: 70\r\nContact: <sip:%d@%s>\r\nUser-Agent: friendly-scanner\r\n%sContent-Length: 0\r\n\r\n",
			method, target, local, i, i, target, i, target, i, method, i, local, extra)
	}
	switch i % 4 {
	case 0:
		return head("REGISTER", "")
	case 1:
		return head("INVITE", fmt.Sprintf(`Authorization: Digest username="%s", realm="ivr", nonce="bm9uY2U", uri="sip:100@%s", response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="x%d"`+"\r\n", floodUser, target, i))
	case 2:
		return head("OPTIONS", "")
	}
	return fmt.Sprintf("\x16\x03\x01 not sip at all %d\r\n\r\n", i)
}

// phase runs n trunk calls from 127.0.0.1 and n/4 authenticated softphone
// calls from softIP at once, and returns their summaries.
func phase(ctx context.Context, t *testing.T, target string, sc *Script, n int) (trunk, soft *Summary) {
	t.Helper()
	var wg sync.WaitGroup
	var errT, errS error
	wg.Add(2)
	go func() {
		defer wg.Done()
		trunk, errT = Load(ctx, testConfig(target), sc, n, *floodCallRate, nil)
	}()
	go func() {
		defer wg.Done()
		cfg := testConfig(target)
		cfg.Local, cfg.From, cfg.AuthPassword = softIP+":0", floodUser, floodPass
		cfg.RTPLow, cfg.RTPHigh = 38000, 39999
		soft, errS = Load(ctx, cfg, sc, max(n/4, 1), *floodCallRate/4, nil)
	}()
	wg.Wait()
	if errT != nil || errS != nil {
		t.Fatalf("load: %v %v", errT, errS)
	}
	return trunk, soft
}

// floodRun is what one run of TestScannerFlood measured.
type floodRun struct {
	idleT, idleS, floodT, floodS *Summary      // trunk and softphone calls per phase
	sent, got                    int64         // flooder's requests and the datagrams it got back
	took                         time.Duration // flood phase
	st                           sip.SecurityStats
}

func (r *floodRun) String() string {
	return fmt.Sprintf("flood: %d bad requests in %.1f s (%.0f/s), %d answered; server: banned drops %d, rate-limited %d, auth failures %d, bans %d\n"+
		"trunk calls  idle: %s; under flood: %s (p95 ratio %.2f)\n"+
		"softphone    idle: %s; under flood: %s\n"+
		"CPU (whole test process, both ends) idle %.0f%% of a core, under flood %.0f%%",
		r.sent, r.took.Seconds(), r.rate(), r.got,
		r.st.Rejected[sip.ReasonBanned], r.st.Rejected[sip.ReasonRateLimited], r.st.AuthFailures, r.st.BansTotal,
		setupLine(r.idleT), setupLine(r.floodT), r.floodT.SetupP95Ms/r.idleT.SetupP95Ms,
		setupLine(r.idleS), setupLine(r.floodS), r.idleT.CPUPct, r.floodT.CPUPct)
}

func (r *floodRun) rate() float64 { return float64(r.sent) / r.took.Seconds() }

func setupLine(s *Summary) string {
	return fmt.Sprintf("%d/%d set up, setup p50 %.1f p95 %.1f ms", s.Answered, s.Attempted, s.SetupP50Ms, s.SetupP95Ms)
}

func TestScannerFlood(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	n := *floodCalls
	ctx := timeout(t, 10*time.Minute)
	f := &farEnd{Tone: 100 * time.Millisecond, ToneAmp: 0.3}
	srv, stop := startGuardedFarEnd(t, f, 3*n)
	defer stop()
	target := "sip:ivr@" + srv.Addr().String()
	sc := writeScript(t, "wait 0.2\nhangup\n")
	r := &floodRun{}
	r.idleT, r.idleS = phase(ctx, t, target, sc, n)

	fctx, fstop := context.WithCancel(ctx)
	fl := &flooder{}
	ferr := make(chan error, 1)
	go func() { ferr <- fl.run(fctx, srv.Addr().String(), *floodRate) }()
	t0 := time.Now()
	r.floodT, r.floodS = phase(ctx, t, target, sc, n)
	fstop()
	if err := <-ferr; err != nil {
		t.Fatal(err)
	}
	r.took, r.sent, r.got = time.Since(t0), fl.sent.Load(), fl.got.Load()
	// The server may still be reading the last datagrams off its socket.
	settle := time.NewTicker(10 * time.Millisecond)
	defer settle.Stop()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); <-settle.C {
		if float64(srv.SecurityStats().Rejected[sip.ReasonBanned]) >= 0.9*float64(r.sent) {
			break
		}
	}
	r.st = srv.SecurityStats()
	t.Log(r)
	if path := os.Getenv("FLOOD_REPORT"); path != "" {
		_ = os.WriteFile(filepath.Clean(path), []byte(r.String()+"\n"), 0o644)
	}
	checkFlood(t, r, srv.Guard().Banned(netip.MustParseAddr(flooderIP)))
}

// checkFlood asserts the targets of issue 7 on a run.
func checkFlood(t *testing.T, r *floodRun, banned bool) {
	t.Helper()
	if r.rate() < 100 {
		t.Errorf("flood rate %.0f/s, want at least 100", r.rate())
	}
	for name, sum := range map[string]*Summary{"idle trunk": r.idleT, "idle softphone": r.idleS, "flood trunk": r.floodT, "flood softphone": r.floodS} {
		if ok := float64(sum.Answered) / float64(sum.Attempted); ok < 0.999 {
			t.Errorf("%s: %d of %d calls set up (%.2f%%), want >= 99.9%%: %v", name, sum.Answered, sum.Attempted, 100*ok, sum.Failures)
		}
	}
	if !banned {
		t.Errorf("flooder not banned: %+v", r.st)
	}
	if drops := r.st.Rejected[sip.ReasonBanned]; float64(drops) < 0.9*float64(r.sent) {
		t.Errorf("only %d of %d flood packets dropped as banned", drops, r.sent)
	}
	// Before the ban it gets answers, and retransmissions of the final
	// responses it never ACKs; after it, none.
	if float64(r.got) > 0.05*float64(r.sent) {
		t.Errorf("flooder got %d answers to %d requests", r.got, r.sent)
	}
	// Loose on purpose (a shared 2-core box): the figure is in docs/sipsec.md.
	if r.floodT.SetupP95Ms > 5*r.idleT.SetupP95Ms+50 {
		t.Errorf("setup p95 under flood %.1f ms vs idle %.1f ms", r.floodT.SetupP95Ms, r.idleT.SetupP95Ms)
	}
}
