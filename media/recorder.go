package media

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Recorder defaults.
const (
	// DefaultRecorderQueue is how many frames (both channels together) may
	// wait for the disk: 4 s of a call.
	DefaultRecorderQueue = 400
	// DefaultPauseGuard is how long a pause lasts after its resume, so the
	// tail of the last key's tone (in-band tones may still be arriving
	// after the RFC 4733 end event, and sit in the jitter buffer) is not
	// recorded.
	DefaultPauseGuard = 400 * time.Millisecond
	// recMaxLag is how many frames a channel may trail the wall clock (a
	// late tick catching up) before it is moved to the present; the frames
	// skipped are silence.
	recMaxLag = 3
)

// The recording's channels.
const (
	chanCaller = 0 // left: what the caller sends us
	chanAgent  = 1 // right: what we send the caller
)

// RecorderConfig configures a Recorder. Zero values take the defaults.
type RecorderConfig struct {
	// Queue is how many frames may wait for the disk before frames are
	// dropped (DefaultRecorderQueue).
	Queue int
	// Guard is how long a pause lasts after its resume (DefaultPauseGuard;
	// negative: none).
	Guard time.Duration
	// Now is the clock (time.Now); a test sets its own.
	Now func() time.Time
	Log *slog.Logger
}

// PauseInterval is a stretch of a recording that holds silence because the
// caller was entering a PIN or card data. Start and End are offsets from
// the recording's start.
type PauseInterval struct {
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
}

// RecordingInfo is what a closed recording holds.
type RecordingInfo struct {
	Duration time.Duration   // audio in the file
	Paused   []PauseInterval // silent windows (PCI pause)
	Dropped  uint64          // frames lost because the disk was behind or failed
}

// PausedFor is the total length of the paused windows.
func (ri RecordingInfo) PausedFor() time.Duration {
	var d time.Duration
	for _, p := range ri.Paused {
		d += p.End - p.Start
	}
	return d
}

// recFrame is one 20 ms frame of one channel on its way to the disk.
type recFrame struct {
	slot   int64 // frame index on the recording's timeline
	ch     uint8
	silent bool // paused: no samples were copied
	pcm    [FrameSamples]int16
}

// Recorder writes a call as a stereo 8 kHz 16-bit WAV: the caller on the
// left channel, what we send the caller (prompts, hold music, the agent)
// on the right. Each channel is fed by its own tap (Caller, Agent), called
// once per 20 ms frame from the media goroutine; a tap copies the frame
// into a preallocated buffer and queues it without blocking or
// allocating. A goroutine started by NewRecorder and ended by Close places
// the frames on one timeline (frame k of either channel is 20 ms × k after
// the start; a frame that never came is silence) and writes them.
//
// When the disk is slow or failing, frames are dropped (counted, logged
// once): the call never waits for the recording.
//
// Pause makes both channels silent (nothing of the audio is even copied)
// until its resume func is called and the guard time has passed; the
// windows are reported by Close.
//
// The WAV header is written with zero sizes at once and patched by Close;
// a file left by a crash is readable as is by ReadWAV and fixed by
// RepairWAV.
type Recorder struct {
	cfg   RecorderConfig
	log   *slog.Logger
	wav   *WAVWriter
	f     io.WriteSeeker
	start time.Time

	free chan *recFrame // frames the taps may fill
	out  chan *recFrame // frames for the writer
	quit chan struct{}
	done chan struct{}

	pauses    atomic.Int32 // open pauses
	holdUntil atomic.Int64 // ns since start: the guard after the last resume
	dropped   atomic.Uint64
	dropLog   sync.Once
	closed    atomic.Bool
	closeOnce sync.Once

	mu        sync.Mutex // guards intervals, openStart
	intervals []PauseInterval
	openStart time.Duration

	caller, agent recTap
	wr            recWriter // owned by the writer goroutine until done
	info          RecordingInfo
	closeErr      error
}

// NewRecorder writes a WAV header to w and starts the recorder's writer
// goroutine; Close ends it and patches the header. w is not closed.
func NewRecorder(w io.WriteSeeker, cfg RecorderConfig) (*Recorder, error) {
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultRecorderQueue
	}
	if cfg.Guard == 0 {
		cfg.Guard = DefaultPauseGuard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	wav, err := NewWAVWriter(w, SampleRate, 2)
	if err != nil {
		return nil, fmt.Errorf("recorder: %w", err)
	}
	r := &Recorder{cfg: cfg, log: cfg.Log, wav: wav, f: w, start: cfg.Now(),
		free: make(chan *recFrame, cfg.Queue), out: make(chan *recFrame, cfg.Queue),
		quit: make(chan struct{}), done: make(chan struct{})}
	for range cfg.Queue {
		r.free <- new(recFrame)
	}
	r.caller = recTap{r: r, ch: chanCaller, name: "Recorder(caller→left)"}
	r.agent = recTap{r: r, ch: chanAgent, name: "Recorder(us→right)"}
	r.wr.init(r)
	go r.wr.run()
	return r, nil
}

// CreateRecording creates the file at path (mode 0640, its directory 0750)
// and starts a Recorder on it; Close closes the file too.
func CreateRecording(path string, cfg RecorderConfig) (*Recorder, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	r, err := NewRecorder(f, cfg)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// Caller is the left channel's tap: the frames received from the caller.
func (r *Recorder) Caller() PCM16Writer { return &r.caller }

// Agent is the right channel's tap: the frames sent to the caller.
func (r *Recorder) Agent() PCM16Writer { return &r.agent }

// Pause silences both channels until resume is called, and for the guard
// time after. Pauses nest; resume may be called more than once (the first
// call counts). It is safe for concurrent use.
func (r *Recorder) Pause() (resume func()) {
	at := r.since()
	r.mu.Lock()
	if r.pauses.Add(1) == 1 {
		if n := len(r.intervals); n > 0 && at <= r.intervals[n-1].End {
			// Paused again within the last window's guard: one window.
			r.openStart = r.intervals[n-1].Start
			r.intervals = r.intervals[:n-1]
		} else {
			r.openStart = at
		}
	}
	r.mu.Unlock()
	var once sync.Once
	return func() { once.Do(r.resume) }
}

func (r *Recorder) resume() {
	end := r.since() + max(r.cfg.Guard, 0)
	r.mu.Lock()
	defer r.mu.Unlock()
	if end > time.Duration(r.holdUntil.Load()) {
		r.holdUntil.Store(int64(end))
	}
	if r.pauses.Add(-1) == 0 {
		r.intervals = append(r.intervals, PauseInterval{Start: r.openStart, End: end})
	}
}

// Paused reports whether the recorder writes silence now.
func (r *Recorder) Paused() bool { return r.silentAt(r.since()) }

func (r *Recorder) silentAt(at time.Duration) bool {
	return r.pauses.Load() > 0 || at < time.Duration(r.holdUntil.Load())
}

func (r *Recorder) since() time.Duration { return r.cfg.Now().Sub(r.start) }

// Dropped is how many frames were lost so far (disk behind or failed).
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// drop counts a lost frame and logs the first one.
func (r *Recorder) drop(why string) {
	r.dropped.Add(1)
	r.dropLog.Do(func() {
		r.log.Warn("recording: frames dropped; the call goes on", "why", why)
	})
}

// Close stops the taps, writes what is queued, patches the WAV header and
// closes the file if the Recorder created it. It returns what the file
// holds. It is idempotent.
func (r *Recorder) Close() (RecordingInfo, error) {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		close(r.quit)
		<-r.done
		r.mu.Lock()
		if r.pauses.Load() > 0 { // a window still open at the end
			r.intervals = append(r.intervals, PauseInterval{Start: r.openStart, End: r.since()})
		}
		r.info.Paused = append([]PauseInterval(nil), r.intervals...)
		r.mu.Unlock()
		r.info.Duration = time.Duration(r.wr.written) * FrameDuration
		r.info.Dropped = r.dropped.Load()
		errs := []error{r.wav.Close()} // holds the first write error
		errs = append(errs, appendCues(r.f, r.wav, r.info.Paused))
		if c, ok := r.f.(*os.File); ok {
			errs = append(errs, c.Close())
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.info, r.closeErr
}

// recTap is one channel's PCM16Writer. Each tap is used by one goroutine
// (the call's media loop); next is its own.
type recTap struct {
	r    *Recorder
	ch   uint8
	name string
	next int64 // the slot of the next frame
}

func (t *recTap) String() string  { return t.name }
func (t *recTap) SampleRate() int { return SampleRate }

// WriteSample queues one frame for the recording; it never blocks. A frame
// that is not FrameSamples long is cut or padded with silence.
func (t *recTap) WriteSample(frame []int16) error {
	r := t.r
	if r.closed.Load() {
		return nil
	}
	at := r.since()
	wall := int64(at / FrameDuration)
	if t.next < wall-recMaxLag {
		t.next = wall // a gap (hold, stall, the caller not yet sending): silence
	}
	var f *recFrame
	select {
	case f = <-r.free:
	default:
		r.drop("the disk is behind")
		t.next++
		return nil
	}
	f.slot, f.ch, f.silent = t.next, t.ch, r.silentAt(at)
	t.next++
	if !f.silent {
		n := copy(f.pcm[:], frame)
		clear(f.pcm[n:])
	}
	r.out <- f // never blocks: out holds every frame there is
	return nil
}
