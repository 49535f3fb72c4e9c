package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
)

// recordingObserver keeps what a server reports.
type recordingObserver struct {
	mu        sync.Mutex
	ended     []CallSummary
	speech    []asr.Event
	responses []time.Duration
	inputs    []string
	endedCh   chan struct{}
}

func newRecordingObserver() *recordingObserver {
	return &recordingObserver{endedCh: make(chan struct{}, 16)}
}

func (o *recordingObserver) CallEnded(s CallSummary) {
	o.mu.Lock()
	o.ended = append(o.ended, s)
	o.mu.Unlock()
	o.endedCh <- struct{}{}
}

func (o *recordingObserver) SpeechResult(ev asr.Event) {
	o.mu.Lock()
	o.speech = append(o.speech, ev)
	o.mu.Unlock()
}

func (o *recordingObserver) Responded(input string, d time.Duration) {
	o.mu.Lock()
	o.inputs, o.responses = append(o.inputs, input), append(o.responses, d)
	o.mu.Unlock()
}

func (o *recordingObserver) waitEnded(t *testing.T, n int) []CallSummary {
	t.Helper()
	for {
		o.mu.Lock()
		got := append([]CallSummary(nil), o.ended...)
		o.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-o.endedCh:
		case <-time.After(20 * time.Second):
			t.Fatalf("%d calls reported ended, want %d", len(got), n)
		}
	}
}

// liveCalls counts the server's calls in progress by answered.
func liveCounts(srv *Server) (ringing, answered int) {
	srv.EachCall(func(ans bool, _ *media.Stats) {
		if ans {
			answered++
		} else {
			ringing++
		}
	})
	return ringing, answered
}

// TestObserverSeesCalls places real calls to the menu: one presses 1 and
// is hung up by the server (completed, a DTMF response time), one over the
// call limit is rejected; /metrics serves the given handler.
func TestObserverSeesCalls(t *testing.T) {
	obs := newRecordingObserver()
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ivr_test 1\n") })
	srv, _ := startServer(t, func(c *Config) { c.MaxCalls = 1 }, WithMetrics(metrics, obs))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	res, err := http.Get("http://" + srv.HTTPAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "ivr_test 1\n" {
		t.Errorf("GET /metrics = %q", body)
	}

	c, err := dial(t, ctx, srv, "udp")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	// The server counts the call answered once the phone's ACK is in.
	for deadline := time.Now().Add(5 * time.Second); ; {
		r, a := liveCounts(srv)
		if r == 0 && a == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls in progress: %d ringing, %d answered; want 0, 1", r, a)
		}
		<-time.After(10 * time.Millisecond) // bounded poll
	}
	var se *sip.StatusError
	if _, err := dial(t, ctx, srv, "udp"); !errors.As(err, &se) || se.Code != 503 {
		t.Errorf("second call: %v, want 503", err)
	}
	if err := c.sess.SendDTMF(ctx, "1", 120*time.Millisecond, 80*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	c.waitHangup(t, 30*time.Second)
	got := obs.waitEnded(t, 2)
	if s := got[0]; s.Outcome != OutcomeRejected || s.Reason != RejectLimit || s.Answered {
		t.Errorf("first reported %+v, want the rejected call", s)
	}
	s := got[1]
	if s.Outcome != OutcomeCompleted || !s.Answered || s.Media.PacketsSent < 50 || s.Media.PacketsReceived < 10 {
		t.Errorf("menu call reported %s answered=%v sent=%d received=%d, want completed with RTP both ways",
			s.Outcome, s.Answered, s.Media.PacketsSent, s.Media.PacketsReceived)
	}
	if r, a := liveCounts(srv); r+a != 0 {
		t.Errorf("calls in progress after the end: %d", r+a)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.responses) == 0 || obs.inputs[0] != InputDTMF || obs.responses[0] <= 0 || obs.responses[0] > 2*time.Second {
		t.Errorf("responses %v %v, want one DTMF response within 2 s", obs.inputs, obs.responses)
	}
}

// TestOutcome covers how a call's end becomes its outcome.
func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answered bool
		cause    error
		err      error
		maxTime  bool
		want     string
	}{
		{"cancelled while ringing", false, sip.ErrCanceled, nil, false, OutcomeAbandoned},
		{"answer failed", false, nil, nil, false, OutcomeFailed},
		{"caller hung up", true, sip.ErrRemoteHangup, errCallOver, false, OutcomeCallerHangup},
		{"flow finished", true, nil, errCallOver, false, OutcomeCompleted},
		{"rtp time-out", true, nil, media.ErrRTPTimeout, false, OutcomeFailed},
		{"flow error", true, nil, errors.New("boom"), false, OutcomeFailed},
		{"max call time", true, nil, errCallOver, true, OutcomeMaxTime},
		{"shutdown", true, sip.ErrShuttingDown, errCallOver, false, OutcomeShutdown},
		{"drained", true, nil, errCallOver, false, OutcomeShutdown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &callEnd{err: tc.err, maxTime: tc.maxTime, shutdown: tc.name == "drained"}
			if got := outcomeOf(tc.answered, tc.cause, e); got != tc.want {
				t.Errorf("outcome %q, want %q", got, tc.want)
			}
		})
	}
}

// BenchmarkFirstFrame is the per-frame cost the response-time hook adds
// on the RTP pacing path (wrapped against bare): after the first frame,
// one atomic load.
func BenchmarkFirstFrame(b *testing.B) {
	src := media.SourceFunc(func(f []int16) bool { return true })
	frame := make([]int16, media.FrameSamples)
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			src.ReadFrame(frame)
		}
	})
	b.Run("wrapped", func(b *testing.B) {
		f := &firstFrame{Source: src, mark: &turnMark{input: InputDTMF, at: time.Now()}, obs: nopObserver{}}
		b.ReportAllocs()
		for b.Loop() {
			f.ReadFrame(frame)
		}
	})
}

func TestFirstFrameAllocs(t *testing.T) {
	src := media.SourceFunc(func(f []int16) bool { return true })
	f := &firstFrame{Source: src, mark: &turnMark{input: InputDTMF, at: time.Now()}, obs: nopObserver{}}
	frame := make([]int16, media.FrameSamples)
	if n := testing.AllocsPerRun(1000, func() { f.ReadFrame(frame) }); n != 0 {
		t.Errorf("%v allocs per frame, want 0", n)
	}
}
