package softphone

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Event names, as in the JSON "event" field.
const (
	EvDialing    = "dialing"
	EvRinging    = "ringing"
	EvAnswered   = "answered"
	EvAudioStart = "audio_start"
	EvAudioStop  = "audio_stop"
	EvStep       = "step"
	EvPlayEnd    = "play_end"
	EvDTMFSent   = "dtmf_sent"
	EvHangup     = "hangup"
	EvFailed     = "failed"
	EvSummary    = "summary"
)

// Event is one thing that happened on a call. Fields other than At, Call
// and Name are filled only where they apply.
type Event struct {
	At   time.Time `json:"-"`
	TMs  float64   `json:"t_ms"` // ms since the sink's epoch; set by JSONSink
	Call int       `json:"call"` // index of the call in a run (0 for a single call)
	Name string    `json:"event"`

	SetupMs    *float64 `json:"setup_ms,omitempty"`    // answered: INVITE → 200 OK
	Codec      string   `json:"codec,omitempty"`       // answered
	LevelDBFS  *float64 `json:"level_dbfs,omitempty"`  // audio_start: onset level; audio_stop: mean level
	AudioMs    *float64 `json:"audio_ms,omitempty"`    // audio_stop: first to last loud frame
	ResponseMs *float64 `json:"response_ms,omitempty"` // audio_start: since the last play_end or dtmf_sent
	After      string   `json:"after,omitempty"`       // audio_start with response_ms: "play" or "dtmf"
	Line       int      `json:"line,omitempty"`        // step, play_end, dtmf_sent: script line
	Step       string   `json:"step,omitempty"`        // step: the line's text
	Digits     string   `json:"digits,omitempty"`      // dtmf_sent
	Inband     bool     `json:"inband,omitempty"`      // dtmf_sent: as tones in the audio
	By         string   `json:"by,omitempty"`          // hangup: "local" or "remote"
	Code       int      `json:"code,omitempty"`        // failed: SIP status, when the far end refused
	Reason     string   `json:"reason,omitempty"`      // hangup, failed, ringing
	Result     *Result  `json:"result,omitempty"`      // summary of one call
	Summary    *Summary `json:"summary,omitempty"`     // summary of a load run
}

// EventSink takes the events of calls. It is called from the calls' own
// goroutines (a media pacing loop among them), so it must be safe for
// concurrent use and return quickly.
type EventSink interface {
	Event(e Event)
}

// EventFunc adapts a function to an EventSink.
type EventFunc func(e Event)

// Event calls f(e).
func (f EventFunc) Event(e Event) { f(e) }

// JSONSink writes each event as one JSON object per line, with t_ms counted
// from its epoch.
type JSONSink struct {
	mu    sync.Mutex
	enc   *json.Encoder
	epoch time.Time
}

// NewJSONSink writes events to w, timed from epoch.
func NewJSONSink(w io.Writer, epoch time.Time) *JSONSink {
	return &JSONSink{enc: json.NewEncoder(w), epoch: epoch}
}

// Event writes e as one line.
func (s *JSONSink) Event(e Event) {
	if !e.At.IsZero() {
		e.TMs = msOf(e.At.Sub(s.epoch))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.enc.Encode(e)
}

// msOf converts d to milliseconds rounded to 0.1 ms.
func msOf(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}

func ptr[T any](v T) *T { return &v }

// nopSink drops events.
type nopSink struct{}

func (nopSink) Event(Event) {}

// TextSink writes events as lines for people, e.g.
// "   812.4 ms  #0  answered  setup 11.2 ms PCMU/8000".
type TextSink struct {
	mu    sync.Mutex
	w     io.Writer
	epoch time.Time
}

// NewTextSink writes events to w, timed from epoch.
func NewTextSink(w io.Writer, epoch time.Time) *TextSink { return &TextSink{w: w, epoch: epoch} }

// Event writes e as one line.
func (s *TextSink) Event(e Event) {
	line := fmt.Sprintf("%9.1f ms  #%d  %s%s\n", msOf(e.At.Sub(s.epoch)), e.Call, e.Name, e.details())
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = io.WriteString(s.w, line)
}

// details formats the fields an event carries.
func (e Event) details() string {
	var b strings.Builder
	add := func(format string, args ...any) { fmt.Fprintf(&b, "  "+format, args...) }
	if e.Line != 0 {
		add("line %d", e.Line)
	}
	if e.Step != "" {
		add("%q", e.Step)
	}
	if e.SetupMs != nil {
		add("setup %.1f ms %s", *e.SetupMs, e.Codec)
	}
	if e.LevelDBFS != nil {
		add("level %.1f dBFS", *e.LevelDBFS)
	}
	if e.AudioMs != nil {
		add("lasted %.0f ms", *e.AudioMs)
	}
	if e.ResponseMs != nil {
		add("response %.1f ms after %s", *e.ResponseMs, e.After)
	}
	if e.Digits != "" {
		add("digits %s inband=%v", e.Digits, e.Inband)
	}
	if e.By != "" {
		add("by %s", e.By)
	}
	if e.Code != 0 {
		add("%d", e.Code)
	}
	if e.Reason != "" {
		add("%s", e.Reason)
	}
	if r := e.Result; r != nil {
		add("answered=%v duration %.0f ms  rtp sent %d received %d lost %d  largest gap %.1f ms",
			r.Answered, r.DurationMs, r.PacketsSent, r.PacketsReceived, r.Lost, r.MaxRecvGapMs)
		if len(r.ResponseMs) > 0 {
			add("response_ms %v", r.ResponseMs)
		}
	}
	return b.String()
}
