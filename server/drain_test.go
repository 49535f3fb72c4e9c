package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/sip"
)

// holdFlow keeps its call up until a key is pressed (the flow then ends
// and the server hangs up) or its context ends.
type holdFlow struct{ started chan<- struct{} }

func (f holdFlow) Run(ctx context.Context, c Call) error {
	f.started <- struct{}{}
	select {
	case <-c.Digits():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drainServer runs a server whose calls run holdFlow; stop starts the
// shutdown, and done delivers Run's result.
func drainServer(t *testing.T, drain time.Duration) (srv *Server, logs *logBuffer, started <-chan struct{}, stop func(), done <-chan error) {
	t.Helper()
	st := make(chan struct{}, 4)
	d := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	srv, logs = newTestServer(t, func(c *Config) { c.DrainTime = drain },
		WithFlow(func(CallInfo) Flow { return holdFlow{started: st} }))
	go func() { d <- srv.Run(ctx) }()
	t.Cleanup(func() {
		srv.StopNow()
		cancel()
	})
	waitHealthy(t, srv)
	return srv, logs, st, cancel, d
}

// healthz returns /healthz's status and body.
func healthz(t *testing.T, srv *Server) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + srv.HTTPAddr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// waitDraining polls /healthz until it says draining.
func waitDraining(t *testing.T, srv *Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if code, body := healthz(t, srv); code == http.StatusServiceUnavailable && strings.HasPrefix(body, "draining") {
			return
		}
		<-time.After(20 * time.Millisecond) // bounded poll, not a synchronising sleep
	}
	t.Fatal("/healthz never said draining")
}

func waitRun(t *testing.T, done <-chan error, within time.Duration) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(within):
		t.Fatalf("Run did not return within %v", within)
	}
}

// TestDrainLetsCallsFinish: once shutdown starts, new calls get 503 with
// Retry-After and /healthz says draining, while the call in progress goes
// on; when it ends, Run returns without waiting out the drain time.
func TestDrainLetsCallsFinish(t *testing.T) {
	srv, _, started, stop, done := drainServer(t, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := dial(t, ctx, srv, "udp")
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	<-started
	stop()
	waitDraining(t, srv)
	_, err = dial(t, ctx, srv, "tcp")
	var se *sip.StatusError
	if !errors.As(err, &se) || se.Code != 503 || se.RetryAfter == 0 {
		t.Errorf("new call while draining: %v, want 503 with Retry-After", err)
	}
	if err := a.call.Context().Err(); err != nil {
		t.Fatalf("the call in progress ended when shutdown began: %v", context.Cause(a.call.Context()))
	}
	// The server hangs up at the key's first event, so the rest of the
	// event may find the session closed: that error is expected.
	_ = a.sess.SendDTMF(ctx, "5", 100*time.Millisecond, 0)
	a.waitHangup(t, 10*time.Second)
	waitRun(t, done, 10*time.Second)
}

// TestDrainTimeEndsCallsPolitely: a call still up when the drain time is
// over hears the shutdown goodbye, then gets a BYE.
func TestDrainTimeEndsCallsPolitely(t *testing.T) {
	const drain = 500 * time.Millisecond
	srv, logs, started, stop, done := drainServer(t, drain)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := dial(t, ctx, srv, "udp")
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	<-started
	t0 := time.Now()
	stop()
	a.waitHangup(t, drain+goodbyeWait+5*time.Second)
	if took := time.Since(t0); took < drain {
		t.Errorf("hung up %v after the shutdown began, before the %v drain time", took, drain)
	}
	clips, err := srv.prompts.Clips(PromptShutdown)
	if err != nil {
		t.Fatal(err)
	}
	// The clip's own voiced time (its pauses don't count) is what the
	// caller must hear, give or take a frame or two of G.711 and jitter.
	clip := &recorder{samples: clips[0].PCM}
	if v, want := a.rec.voiced(), clip.voiced(); v < want-0.1 {
		t.Errorf("caller heard %.2f s of audio, want the shutdown goodbye's %.2f s", v, want)
	}
	waitRun(t, done, 10*time.Second)
	if !strings.Contains(logs.String(), "ending call: server shutting down") {
		t.Errorf("no shutdown line in the log:\n%s", logs.String())
	}
}

// TestStopNowHangsUpAtOnce: a second signal (StopNow) during the drain
// hangs calls up without the goodbye.
func TestStopNowHangsUpAtOnce(t *testing.T) {
	srv, _, started, stop, done := drainServer(t, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := dial(t, ctx, srv, "udp")
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	<-started
	stop()
	waitDraining(t, srv)
	srv.StopNow()
	a.waitHangup(t, 10*time.Second)
	waitRun(t, done, 10*time.Second)
	if v := a.rec.voiced(); v > 0.5 {
		t.Errorf("caller heard %.1f s of audio after StopNow, want none (no goodbye)", v)
	}
}
