package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
	"github.com/supportline/ivr/softphone"
)

// logBuffer collects the server's log lines for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServer runs a server on free loopback ports until the test ends.
func startServer(t *testing.T, mod func(*Config), opts ...Option) (*Server, *logBuffer) {
	t.Helper()
	srv, logs := newTestServer(t, mod, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	waitHealthy(t, srv)
	t.Cleanup(func() {
		srv.StopNow() // no drain: calls a test left up are hung up at once
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return srv, logs
}

// newTestServer makes a server on free loopback ports, not yet running.
func newTestServer(t *testing.T, mod func(*Config), opts ...Option) (*Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg := Defaults()
	cfg.SIPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RTPLow, cfg.RTPHigh = 31000, 31998
	cfg.DataDir = t.TempDir()
	cfg.NoInputTimeout = 3 * time.Second
	cfg.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, logs
}

func waitHealthy(t *testing.T, srv *Server) {
	t.Helper()
	url := "http://" + srv.HTTPAddr().String() + "/healthz"
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		<-time.After(20 * time.Millisecond) // bounded poll, not a synchronising sleep
	}
	t.Fatal("server never became healthy")
}

// caller is a minimal test phone: SIP UAC plus an RTP session that records
// what the server sends.
type caller struct {
	phone *sip.Phone
	call  *sip.OutboundCall
	sess  *media.Session
	rec   *recorder
	done  chan error
	ports *media.PortAllocator
}

type recorder struct {
	mu      sync.Mutex
	samples []int16
}

func (r *recorder) String() string  { return "recorder" }
func (r *recorder) SampleRate() int { return media.SampleRate }
func (r *recorder) WriteSample(f []int16) error {
	r.mu.Lock()
	r.samples = append(r.samples, f...)
	r.mu.Unlock()
	return nil
}

// voiced is how many seconds of the recording are above -40 dBFS.
func (r *recorder) voiced() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for i := 0; i+media.FrameSamples <= len(r.samples); i += media.FrameSamples {
		if rmsDBFS(r.samples[i:i+media.FrameSamples]) > -40 {
			n++
		}
	}
	return float64(n) * media.FrameDuration.Seconds()
}

func dial(t *testing.T, ctx context.Context, srv *Server, transport string, formats ...sip.Format) (*caller, error) {
	t.Helper()
	phone, err := sip.NewPhone(sip.PhoneConfig{Transport: transport, From: "15550100", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
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
	if len(formats) == 0 {
		formats = []sip.Format{{PayloadType: 0, Name: "PCMU", ClockRate: 8000}, {PayloadType: 101, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-16"}}
	}
	local := sip.LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: int(pair.RTPAddr().Port()), Formats: formats}
	call, err := phone.Dial(ctx, srv.SIPAddr().String(), local, nil)
	if err != nil {
		pair.Close()
		phone.Close()
		return nil, err
	}
	rec := &recorder{}
	sess, err := media.NewSession(media.SessionConfig{Ports: pair, Remote: call.Answer.RTPAddr(), Codec: media.PCMU, EventPT: 101, Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	c := &caller{phone: phone, call: call, sess: sess, rec: rec, done: make(chan error, 1), ports: ports}
	go func() { c.done <- sess.Run(call.Context()) }()
	return c, nil
}

func (c *caller) close() {
	c.call.Hangup(context.Background())
	<-c.done
	c.sess.Close()
	c.phone.Close()
}

// waitHangup waits for the server's BYE.
func (c *caller) waitHangup(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-c.call.Context().Done():
		if !errors.Is(context.Cause(c.call.Context()), sip.ErrRemoteHangup) {
			t.Errorf("call ended by %v, want the server's BYE", context.Cause(c.call.Context()))
		}
	case <-time.After(timeout):
		t.Fatal("server did not hang up")
	}
}

func TestMenuByRFC4733(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			srv, logs := startServer(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c, err := dial(t, ctx, srv, transport)
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			// Press 1 during the welcome prompt: barge-in skips the menu.
			if err := c.sess.SendDTMF(ctx, "1", 120*time.Millisecond, 80*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			c.waitHangup(t, 30*time.Second)
			if !strings.Contains(logs.String(), "menu: key") || !strings.Contains(logs.String(), "digit=1 source=rfc4733") {
				t.Errorf("server log lacks the key press:\n%s", logs.String())
			}
			if v := c.rec.voiced(); v < 2 {
				t.Errorf("heard %.1f s of prompt audio, want the key-1 prompt and goodbye", v)
			}
		})
	}
}

func TestMenuByInbandDTMF(t *testing.T) {
	srv, logs := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := dial(t, ctx, srv, "udp", sip.Format{PayloadType: 0, Name: "PCMU", ClockRate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	tone := media.GenerateDTMF('2', 100*time.Millisecond, 0.3)
	c.sess.SetSource(&pcmSource{pcm: tone})
	c.waitHangup(t, 30*time.Second)
	if !strings.Contains(logs.String(), "digit=2 source=inband") {
		t.Errorf("server log lacks the in-band key press:\n%s", logs.String())
	}
}

func TestNoInputEndsCall(t *testing.T) {
	srv, logs := startServer(t, func(c *Config) { c.NoInputTimeout = 500 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := dial(t, ctx, srv, "udp")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	c.waitHangup(t, 80*time.Second)
	if n := strings.Count(logs.String(), "menu: no input"); n != 3 {
		t.Errorf("no-input reprompts = %d, want 3", n)
	}
}

func TestRefusals(t *testing.T) {
	srv, _ := startServer(t, func(c *Config) { c.MaxCalls = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := dial(t, ctx, srv, "udp", sip.Format{PayloadType: 9, Name: "G722", ClockRate: 8000})
	var se *sip.StatusError
	if !errors.As(err, &se) || se.Code != 488 {
		t.Errorf("G722-only offer: %v, want 488", err)
	}
	first, err := dial(t, ctx, srv, "udp")
	if err != nil {
		t.Fatal(err)
	}
	defer first.close()
	_, err = dial(t, ctx, srv, "udp")
	if !errors.As(err, &se) || se.Code != 503 || se.RetryAfter == 0 {
		t.Errorf("call over the limit: %v, want 503 with Retry-After", err)
	}
}

func TestRTPInactivityHangsUp(t *testing.T) {
	srv, logs := startServer(t, func(c *Config) { c.RTPTimeout = time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := dial(t, ctx, srv, "udp")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	c.sess.SetDirection(false, true) // stop sending: a dead caller
	c.waitHangup(t, 10*time.Second)
	if !strings.Contains(logs.String(), "no RTP from caller") {
		t.Errorf("log lacks the inactivity reason:\n%s", logs.String())
	}
}

// pcmSource plays samples once, then silence.
type pcmSource struct {
	pcm []int16
	off int
}

func (p *pcmSource) ReadFrame(f []int16) bool {
	if p.off >= len(p.pcm) {
		return false
	}
	n := copy(f, p.pcm[p.off:])
	clear(f[n:])
	p.off += n
	return true
}

func rmsDBFS(f []int16) float64 {
	var sum float64
	for _, s := range f {
		sum += float64(s) * float64(s)
	}
	if sum == 0 {
		return -120
	}
	return 10 * math.Log10(sum/float64(len(f))/(32768*32768))
}

// TestSoftphoneThroughMenu runs the tester's softphone (what `ivr call`
// runs) against the server through the menu, by RFC 4733 and by in-band
// tones, and checks the recording holds the prompts.
func TestSoftphoneThroughMenu(t *testing.T) {
	for _, inband := range []bool{false, true} {
		name := map[bool]string{false: "rfc4733", true: "inband"}[inband]
		t.Run(name, func(t *testing.T) {
			srv, logs := startServer(t, nil)
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
				Target: "sip:ivr@" + srv.SIPAddr().String(), From: "15550100", DTMFInband: inband,
				Record: rec, RTPLow: 34000, RTPHigh: 34998,
			}, script, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.HangupBy != "remote" {
				t.Errorf("hangup by %q, want the server", res.HangupBy)
			}
			if !strings.Contains(logs.String(), "digit=2 source="+name) {
				t.Errorf("server did not log key 2 via %s:\n%s", name, logs.String())
			}
			audio, err := media.ReadWAVFile(rec)
			if err != nil {
				t.Fatal(err)
			}
			r := &recorder{samples: audio.Samples}
			// The key barges into the menu prompt, so only these play in full.
			clips, err := srv.prompts.Clips("welcome", "demo_next_payment", "goodbye")
			if err != nil {
				t.Fatal(err)
			}
			var want float64
			for _, c := range clips {
				want += c.Duration().Seconds()
			}
			// Pauses inside the clips don't count as voiced: ask for 70% of them.
			if v := r.voiced(); v < 0.7*want {
				t.Errorf("recording has %.1f s of prompt audio, want >= 70%% of the %.1f s played", v, want)
			}
		})
	}
}

// TestSpeechThroughMenu speaks a recorded caller phrase (from the committed
// corpus slice) with the softphone; the server recognises it with
// PocketSphinx and acts on it.
func TestSpeechThroughMenu(t *testing.T) {
	rec, err := asr.NewSphinx(asr.SphinxConfig{Decoders: 1, Grammars: asr.DefaultGrammars(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("PocketSphinx (make deps installs it): %v", err)
	}
	defer rec.Close()
	srv, logs := startServer(t, nil, WithRecognizer(rec, asr.StreamConfig{}))
	dir := t.TempDir()
	clip, err := filepath.Abs("../testdata/corpus-ci/clips/main-balance-0001.wav") // "what is my balance"
	if err != nil {
		t.Fatal(err)
	}
	scriptPath := filepath.Join(dir, "speak.txt")
	os.WriteFile(scriptPath, []byte("wait-silence 40\nplay "+clip+"\nwait-silence 20\n"), 0o644)
	script, err := softphone.ParseScript(scriptPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := softphone.Dial(ctx, softphone.Config{Target: "sip:ivr@" + srv.SIPAddr().String(), RTPLow: 35000, RTPHigh: 35998}, script, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.HangupBy != "remote" {
		t.Errorf("hangup by %q, want the server", res.HangupBy)
	}
	out := logs.String()
	if !strings.Contains(out, "result=final grammar=main intent=balance") {
		t.Errorf("server did not recognise the balance request:\n%s", out)
	}
	if !strings.Contains(out, "menu: spoken") || !strings.Contains(out, "key=1") {
		t.Errorf("menu did not act on the spoken choice:\n%s", out)
	}
}

// failingStream is a recognition stream whose decoder fails on the first
// Listen: fault injection for the keypad fallback (the PocketSphinx
// backend cannot be made to fail on demand).
type failingStream struct {
	once   sync.Once
	events chan asr.Event
}

func (f *failingStream) String() string            { return "failingStream" }
func (f *failingStream) SampleRate() int           { return media.SampleRate }
func (f *failingStream) WriteSample([]int16) error { return nil }
func (f *failingStream) Events() <-chan asr.Event  { return f.events }
func (f *failingStream) Close() error              { return nil }
func (f *failingStream) Listen(grammar string) error {
	f.once.Do(func() {
		f.events <- asr.Event{Type: asr.EventError, Grammar: grammar, Err: errors.New("decoder crashed")}
	})
	return nil
}

func TestRecognizerFailureFallsBackToKeypad(t *testing.T) {
	rec := asr.RecognizerFunc(func(ctx context.Context, cfg asr.StreamConfig) (asr.Stream, error) {
		return &failingStream{events: make(chan asr.Event, 1)}, nil
	})
	srv, logs := startServer(t, nil, WithRecognizer(rec, asr.StreamConfig{}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := dial(t, ctx, srv, "udp")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	// The keypad must still work once speech is gone: press 2 after the fallback.
	for !strings.Contains(logs.String(), "menu: speech unavailable, keypad only") {
		select {
		case <-ctx.Done():
			t.Fatalf("no keypad fallback:\n%s", logs.String())
		case <-time.After(50 * time.Millisecond): // bounded poll of the log
		}
	}
	if err := c.sess.SendDTMF(ctx, "2", 120*time.Millisecond, 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	c.waitHangup(t, 45*time.Second)
	out := logs.String()
	for _, want := range []string{"switching the call to the keypad", "digit=2 source=rfc4733"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestPortRangeExhaustedGives503(t *testing.T) {
	srv, logs := startServer(t, func(c *Config) { c.RTPLow, c.RTPHigh = 32000, 32001 }) // one pair
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := dial(t, ctx, srv, "udp")
	if err != nil {
		t.Fatal(err)
	}
	defer first.close()
	_, err = dial(t, ctx, srv, "udp")
	var se *sip.StatusError
	if !errors.As(err, &se) || se.Code != 503 {
		t.Fatalf("second call with no ports left: %v, want 503", err)
	}
	if !strings.Contains(logs.String(), "call not taken") {
		t.Errorf("log lacks the refusal:\n%s", logs.String())
	}
}

func TestBadPromptIsStartupError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "catalog.tsv"), []byte("welcome\tHello.\ngoodbye\tBye.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "welcome.mp3"), []byte("this is not an mp3 file at all"), 0o644)
	cfg := Defaults()
	cfg.SIPAddr, cfg.HTTPAddr, cfg.DataDir, cfg.PromptsDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), dir
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "welcome.mp3") {
		t.Fatalf("New with a corrupt prompt: %v, want an error naming welcome.mp3", err)
	}
	os.Remove(filepath.Join(dir, "welcome.mp3"))
	_, err = New(cfg)
	if err == nil || !strings.Contains(err.Error(), "welcome") {
		t.Fatalf("New with a missing prompt: %v, want an error naming it", err)
	}
}
