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

// drainEnv is a running server whose calls run holdFlow, with one call up
// in that flow; stop starts the shutdown and done delivers Run's result.
type drainEnv struct {
	srv  *Server
	logs *logBuffer
	ctx  context.Context // bounds the test's calls
	call *caller         // the call in progress
	stop func()
	done <-chan error
}

// drainServer starts the server and places the call in progress.
func drainServer(t *testing.T, drain time.Duration) *drainEnv {
	t.Helper()
	started := make(chan struct{}, 4)
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(context.Background())
	srv, logs := newTestServer(t, func(c *Config) { c.DrainTime = drain },
		WithFlow(func(CallInfo) Flow { return holdFlow{started: started} }))
	go func() { done <- srv.Run(runCtx) }()
	t.Cleanup(func() {
		srv.StopNow()
		stop()
	})
	waitHealthy(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	a, err := dial(t, ctx, srv, "udp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	<-started
	return &drainEnv{srv: srv, logs: logs, ctx: ctx, call: a, stop: stop, done: done}
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
	e := drainServer(t, time.Minute)
	srv, ctx, a := e.srv, e.ctx, e.call
	e.stop()
	waitDraining(t, srv)
	_, err := dial(t, ctx, srv, "tcp")
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
	waitRun(t, e.done, 10*time.Second)
}

// TestDrainTimeEndsCallsPolitely: a call still up when the drain time is
// over hears the shutdown goodbye, then gets a BYE.
func TestDrainTimeEndsCallsPolitely(t *testing.T) {
	const drain = 500 * time.Millisecond
	e := drainServer(t, drain)
	srv, a := e.srv, e.call
	t0 := time.Now()
	e.stop()
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
	waitRun(t, e.done, 10*time.Second)
	if !strings.Contains(e.logs.String(), "ending call: server shutting down") {
		t.Errorf("no shutdown line in the log:\n%s", e.logs.String())
	}
}

// TestStopNowHangsUpAtOnce: a second signal (StopNow) during the drain
// hangs calls up without the goodbye.
func TestStopNowHangsUpAtOnce(t *testing.T) {
	e := drainServer(t, time.Minute)
	srv, a := e.srv, e.call
	e.stop()
	waitDraining(t, srv)
	srv.StopNow()
	a.waitHangup(t, 10*time.Second)
	waitRun(t, e.done, 10*time.Second)
	if v := a.rec.voiced(); v > 0.5 {
		t.Errorf("caller heard %.1f s of audio after StopNow, want none (no goodbye)", v)
	}
}
