package media

import (
	"context"
	"errors"
	"math"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"go.uber.org/goleak"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// testPorts is shared by the tests of this package; it skips ports in use.
var testPorts = func() *PortAllocator {
	a, err := NewPortAllocator(loopback, 31000, 33999)
	if err != nil {
		return nil
	}
	return a
}()

func allocPorts(t testing.TB) *PortPair {
	t.Helper()
	pp, err := testPorts.Allocate()
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	return pp
}

// toneSource is a sine at freq Hz and peak amplitude amp.
func toneSource(freq, amp float64) Source {
	n := 0
	return SourceFunc(func(f []int16) bool {
		for i := range f {
			f[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(n)/SampleRate))
			n++
		}
		return true
	})
}

// countSource plays frames frames of a constant value, then ends.
func countSource(frames int, v int16) Source {
	return SourceFunc(func(f []int16) bool {
		if frames == 0 {
			return false
		}
		frames--
		for i := range f {
			f[i] = v
		}
		return true
	})
}

// collector is a PCM16Writer that keeps what it gets and signals when it
// has want frames.
type collector struct {
	mu     sync.Mutex
	frames [][]int16
	want   int
	full   chan struct{}
}

func newCollector(want int) *collector { return &collector{want: want, full: make(chan struct{})} }

func (c *collector) String() string  { return "collector" }
func (c *collector) SampleRate() int { return SampleRate }
func (c *collector) WriteSample(f []int16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames = append(c.frames, append([]int16(nil), f...))
	if len(c.frames) == c.want {
		close(c.full)
	}
	return nil
}

func (c *collector) snapshot() [][]int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]int16(nil), c.frames...)
}

// runSession runs s in the background; the returned channel gets Run's result.
func runSession(ctx context.Context, s *Session) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.Run(ctx) }()
	return ch
}

func waitRun(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// newTestSession makes a session on fresh loopback ports.
func newTestSession(t *testing.T, cfg SessionConfig) *Session {
	t.Helper()
	if cfg.Ports == nil {
		cfg.Ports = allocPorts(t)
	}
	if cfg.Codec.Name == "" {
		cfg.Codec = PCMU
	}
	s, err := NewSession(cfg)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// pair makes two sessions pointed at each other.
func pair(t *testing.T, a, b SessionConfig) (*Session, *Session) {
	t.Helper()
	sa := newTestSession(t, a)
	sb := newTestSession(t, b)
	sa.SetRemote(sb.LocalAddr())
	sb.SetRemote(sa.LocalAddr())
	return sa, sb
}

func rms(f []int16) float64 {
	var s float64
	for _, v := range f {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(f)))
}

// zeroCrossFreq estimates the frequency of a tone by counting zero crossings.
func zeroCrossFreq(x []int16) float64 {
	n := 0
	for i := 1; i < len(x); i++ {
		if (x[i-1] < 0) != (x[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(x)) / SampleRate)
}

func TestSessionToneArrives(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, codec := range []Codec{PCMU, PCMA} {
		t.Run(codec.Name, func(t *testing.T) {
			col := newCollector(40)
			a, b := pair(t, SessionConfig{Codec: codec}, SessionConfig{Codec: codec, Sink: col})
			a.SetSource(toneSource(1000, 8000))
			ctx, cancel := context.WithCancel(t.Context())
			ra, rb := runSession(ctx, a), runSession(ctx, b)
			waitFor(t, col.full, "40 frames")
			cancel()
			if err := waitRun(t, ra); err != nil {
				t.Errorf("Run a: %v", err)
			}
			if err := waitRun(t, rb); err != nil {
				t.Errorf("Run b: %v", err)
			}
			frames := col.snapshot()
			// Skip the start (b may play silence/concealment until a's first packets).
			var pcm []int16
			for _, f := range frames[10:40] {
				pcm = append(pcm, f...)
			}
			want := 8000 / math.Sqrt2
			if got := rms(pcm); math.Abs(got-want) > 0.05*want {
				t.Errorf("level: rms %.0f, want %.0f±5%%", got, want)
			}
			if f := zeroCrossFreq(pcm); math.Abs(f-1000) > 20 {
				t.Errorf("frequency %.0f Hz, want 1000", f)
			}
			st := b.Stats()
			if st.PacketsReceived < 40 || st.Garbage != 0 || st.Jitterbuffer.Played < 30 {
				t.Errorf("receiver stats: %+v", st)
			}
			if sa := a.Stats(); sa.PacketsSent < 40 || sa.BytesSent != 160*sa.PacketsSent {
				t.Errorf("sender stats: sent %d packets, %d bytes", sa.PacketsSent, sa.BytesSent)
			}
		})
	}
}

func TestSessionCloseIdempotent(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := newTestSession(t, SessionConfig{Remote: netip.MustParseAddrPort("127.0.0.1:9")})
	done := runSession(t.Context(), s)
	for range 3 {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if err := waitRun(t, done); err != nil {
		t.Errorf("Run after Close: %v", err)
	}
	if _, ok := <-s.DTMF(); ok {
		t.Error("DTMF channel not closed")
	}
	if err := s.Run(t.Context()); err == nil {
		t.Error("second Run succeeded")
	}
	if err := s.SendDTMF(t.Context(), "1", 0, 0); err == nil {
		t.Error("SendDTMF on a closed session succeeded")
	}

	// Close before Run: Run returns at once.
	s2 := newTestSession(t, SessionConfig{})
	_ = s2.Close()
	if err := s2.Run(t.Context()); err != nil {
		t.Errorf("Run after Close: %v", err)
	}
}

func TestSessionInactivityTimeout(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := newTestSession(t, SessionConfig{InactivityTimeout: 100 * time.Millisecond})
	start := time.Now()
	err := waitRun(t, runSession(t.Context(), s))
	if !errors.Is(err, ErrRTPTimeout) {
		t.Fatalf("Run: %v, want ErrRTPTimeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %v", d)
	}
}

func TestSessionNoTimeoutWhileNotReceiving(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := newTestSession(t, SessionConfig{InactivityTimeout: 60 * time.Millisecond})
	s.SetDirection(true, false)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := waitRun(t, runSession(ctx, s)); err != nil {
		t.Fatalf("Run: %v, want nil (timeout suspended while !recv)", err)
	}
}

// capture reads raw packets sent to a plain UDP socket.
type capture struct {
	conn *net.UDPConn
	ch   chan rtp.Packet
	done chan struct{}
}

func newCapture(t *testing.T) *capture {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := &capture{conn: conn, ch: make(chan rtp.Packet, 1024), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		buf := make([]byte, 1500)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if p.Unmarshal(append([]byte(nil), buf[:n]...)) == nil {
				select {
				case c.ch <- p:
				default:
				}
			}
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *capture) close() {
	_ = c.conn.Close()
	<-c.done
}

func (c *capture) addr() netip.AddrPort { return c.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (c *capture) next(t *testing.T) rtp.Packet {
	t.Helper()
	select {
	case p := <-c.ch:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no packet captured")
		return rtp.Packet{}
	}
}
