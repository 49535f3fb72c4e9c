package media

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	rtpLoadCalls = flag.Int("rtp.load", 0, "TestRTPLoad: number of loopback session pairs to run (0 = skip)")
	rtpLoadTime  = flag.Duration("rtp.loadtime", 5*time.Second, "TestRTPLoad/BenchmarkRTPLoad200: how long to run")
)

// BenchmarkSendTick is the per-packet work of the pacing loop without the
// syscall: read a frame from the source, encode it, write the header.
func BenchmarkSendTick(b *testing.B) {
	s := newBenchSession(b, SessionConfig{Codec: PCMU})
	sd := newSender(s)
	s.SetSource(rtpTestTone(1000, 8000))
	b.ReportAllocs()
	for b.Loop() {
		pkt := sd.audioPayload()
		putRTPHeader(pkt, false, 0, sd.seq, sd.ts0+uint32(sd.frames)*FrameSamples, sd.ssrc)
		sd.seq++
		sd.frames++
	}
}

// BenchmarkSendPacket is one whole tick: encode, marshal, sendto on
// loopback, stats, and a playout pop.
func BenchmarkSendPacket(b *testing.B) {
	sink := newBenchSession(b, SessionConfig{Codec: PCMU})
	s := newBenchSession(b, SessionConfig{Codec: PCMU, Remote: sink.LocalAddr()})
	sd := newSender(s)
	sd.start = time.Now()
	s.SetSource(rtpTestTone(1000, 8000))
	b.ReportAllocs()
	for b.Loop() {
		sd.sendFrame()
		sd.frames++
		sd.playout(1)
	}
}

// BenchmarkReceivePacket is the receive path without the syscall: parse,
// stats, jitter buffer, and the playout (decode) of one frame.
func BenchmarkReceivePacket(b *testing.B) {
	s := newBenchSession(b, SessionConfig{Codec: PCMU, EventPT: 101, Sink: discardSink{}})
	sd := newSender(s)
	src := netip.MustParseAddrPort("127.0.0.1:4000")
	pkt := rawRTP(0, 0, 0, 0x1234, EncodeULaw(nil, make([]int16, FrameSamples)))
	var p rtpPacket
	now := time.Now()
	seq := uint16(0)
	b.ReportAllocs()
	for b.Loop() {
		putRTPHeader(pkt, false, 0, seq, uint32(seq)*FrameSamples, 0x1234)
		now = now.Add(FrameDuration)
		s.receive(pkt, src, now, &p)
		sd.playout(1)
		seq++
	}
	if st := s.Stats(); st.Garbage != 0 || st.Jitterbuffer.Played == 0 {
		b.Fatalf("stats %+v", st.Jitterbuffer)
	}
}

func newBenchSession(tb testing.TB, cfg SessionConfig) *Session {
	tb.Helper()
	cfg.Ports = allocPorts(tb)
	s, err := NewSession(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

type discardSink struct{}

func (discardSink) String() string            { return "discard" }
func (discardSink) SampleRate() int           { return SampleRate }
func (discardSink) WriteSample([]int16) error { return nil }

// countingSink counts frames, as cheap as a real sink can be.
type countingSink struct{ n atomic.Int64 }

func (*countingSink) String() string              { return "count" }
func (*countingSink) SampleRate() int             { return SampleRate }
func (c *countingSink) WriteSample([]int16) error { c.n.Add(1); return nil }

// loadResult is what runLoad measured.
type loadResult struct {
	sessions         int
	elapsed, cpu     time.Duration // wall time, process CPU (user+sys)
	send, recv       IntervalHistogram
	lateness         IntervalHistogram // pacing ticks, from their frame's start
	sent, received   uint64
	lost             int64
	late, skipped    uint64
	concealed, frame uint64
}

// cpuPerSession is the share of one core a session took.
func (r loadResult) cpuPerSession() float64 {
	return r.cpu.Seconds() / r.elapsed.Seconds() / float64(r.sessions)
}

func (r loadResult) String() string {
	return fmt.Sprintf("%d sessions for %v: CPU %v (%.1f%% of a core in total, %.3f%% per session, %.1f%% for 200 calls)\n"+
		"  sent %d, received %d, lost %d, late ticks %d, skipped frames %d, concealed %d, frames played %d\n"+
		"  send intervals: %s\n  recv intervals: %s\n  tick lateness: n=%d p99=%v p99.9=%v max=%v",
		r.sessions, r.elapsed.Round(time.Millisecond), r.cpu.Round(time.Millisecond),
		100*r.cpu.Seconds()/r.elapsed.Seconds(), 100*r.cpuPerSession(), 200*100*r.cpuPerSession(),
		r.sent, r.received, r.lost, r.late, r.skipped, r.concealed, r.frame, r.send.String(), r.recv.String(),
		r.lateness.N, r.lateness.Percentile(99), r.lateness.Percentile(99.9), r.lateness.Max)
}

func rusageCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runLoad runs pairs session pairs over loopback, a tone each way (like a
// call: prompts one way, caller speech the other), for d, and measures the
// process CPU time and the packet intervals of all sessions.
func runLoad(tb testing.TB, pairs int, d time.Duration) loadResult {
	tb.Helper()
	var all []*Session
	sink := &countingSink{}
	for range pairs {
		a := newBenchSession(tb, SessionConfig{Codec: PCMU, EventPT: 101, Sink: sink})
		b := newBenchSession(tb, SessionConfig{Codec: PCMU, EventPT: 101, Sink: sink, Remote: a.LocalAddr()})
		a.SetRemote(b.LocalAddr())
		a.SetSource(rtpTestTone(1000, 8000))
		b.SetSource(rtpTestTone(400, 6000))
		all = append(all, a, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, len(all))
	cpu0, t0 := rusageCPU(), time.Now()
	for _, s := range all {
		wg.Go(func() {
			if err := s.Run(ctx); err != nil {
				errs <- err
			}
		})
	}
	select {
	case err := <-errs:
		tb.Errorf("session failed: %v", err)
	case <-time.After(d):
	}
	cpu, elapsed := rusageCPU()-cpu0, time.Since(t0)
	cancel()
	wg.Wait()
	r := loadResult{sessions: len(all), elapsed: elapsed, cpu: cpu, frame: uint64(sink.n.Load())}
	for _, s := range all {
		st := s.Stats()
		r.send.Merge(&st.SendIntervals)
		r.recv.Merge(&st.RecvIntervals)
		r.lateness.Merge(&st.TickLateness)
		r.sent += st.PacketsSent
		r.received += st.PacketsReceived
		r.lost += st.Lost
		r.late += st.LateTicks
		r.skipped += st.SkippedFrames
		r.concealed += st.Jitterbuffer.Concealed
	}
	return r
}

// BenchmarkRTPLoad200 runs 200 session pairs (400 sessions) for
// -rtp.loadtime and reports CPU per session and send-interval percentiles.
// Run it with -benchtime=1x.
func BenchmarkRTPLoad200(b *testing.B) {
	var r loadResult
	for b.Loop() {
		r = runLoad(b, 200, *rtpLoadTime)
	}
	b.ReportMetric(100*r.cpuPerSession(), "%core/session")
	b.ReportMetric(200*100*r.cpuPerSession(), "%core/200calls")
	b.ReportMetric(float64(r.send.Percentile(50))/1e6, "send-p50-ms")
	b.ReportMetric(float64(r.send.Percentile(99))/1e6, "send-p99-ms")
	b.ReportMetric(float64(r.send.Percentile(99.9))/1e6, "send-p99.9-ms")
	b.ReportMetric(float64(r.send.Max)/1e6, "send-max-ms")
	b.ReportMetric(100*r.send.Within(FrameDuration, 5*time.Millisecond), "%send-20±5ms")
	b.Log(r)
}

// TestRTPLoad is the same as BenchmarkRTPLoad200 with -rtp.load=N pairs;
// skipped unless asked for.
func TestRTPLoad(t *testing.T) {
	if *rtpLoadCalls == 0 {
		t.Skip("set -rtp.load=N to run N session pairs over loopback")
	}
	checkLeaks(t)
	r := runLoad(t, *rtpLoadCalls, *rtpLoadTime)
	t.Log(r)
	if r.send.N == 0 || r.recv.N == 0 {
		t.Fatal("nothing sent or received")
	}
}
