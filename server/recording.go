package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/supportline/ivr/media"
)

// Recording is a finished call recording, as the call record lists it.
type Recording struct {
	CallID string
	Path   string
	Start  time.Time
	media.RecordingInfo
}

// RecordingSaver lists a finished recording in the call's record. It is
// called once per recorded call, after the call's media has stopped.
type RecordingSaver func(ctx context.Context, r Recording) error

// WithRecordingSaver sets where finished recordings are listed (the call
// records in the store); without it they are only logged.
func WithRecordingSaver(save RecordingSaver) Option { return func(s *Server) { s.saveRec = save } }

// recordingsDir is where recordings go: <data dir>/recordings.
func (c *Config) recordingsDir() string { return filepath.Join(c.DataDir, "recordings") }

// checkRecordingsDir makes the recordings directory and checks that files
// can be made in it, so that --record-calls on a read-only disk fails at
// start-up, not call by call.
func checkRecordingsDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("recordings dir: %w", err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("recordings dir %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("recordings dir %s: %w", dir, err)
	}
	return nil
}

// recordingPath is <dir>/YYYY-MM-DD/<call-id>.wav, the Call-ID made safe
// for a file name: characters other than letters, digits, '.', '_' and
// '-' become '_', and a hash of the real ID is added when anything was
// changed, so two IDs never share a file.
func recordingPath(dir string, at time.Time, callID string) string {
	var b strings.Builder
	for i, r := range callID {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' ||
			r == '.' && i > 0
		if !ok {
			r = '_'
		}
		if b.Len() < 80 {
			b.WriteRune(r)
		}
	}
	name := b.String()
	if name != callID || name == "" {
		sum := sha256.Sum256([]byte(callID))
		name += "-" + hex.EncodeToString(sum[:4])
	}
	return filepath.Join(dir, at.UTC().Format(time.DateOnly), name+".wav")
}

// callRecording is a call's recording, when the server records calls: the
// caller's frames come in through the fan-out, ours through the session's
// send tap.
type callRecording struct {
	rec   atomic.Pointer[media.Recorder]
	path  string
	start time.Time
}

// String names the send tap in media chains.
func (r *callRecording) String() string  { return "Recording(sent)" }
func (r *callRecording) SampleRate() int { return media.SampleRate }

// WriteSample is the session's send tap: the right channel.
func (r *callRecording) WriteSample(frame []int16) error {
	if rec := r.rec.Load(); rec != nil {
		return rec.Agent().WriteSample(frame)
	}
	return nil
}

// caller feeds a received frame to the left channel.
func (r *callRecording) caller(frame []int16) {
	if rec := r.rec.Load(); rec != nil {
		_ = rec.Caller().WriteSample(frame)
	}
}

// pause silences the recording until resume (no-op without a recording).
func (r *callRecording) pause() (resume func()) {
	if r == nil {
		return func() {}
	}
	if rec := r.rec.Load(); rec != nil {
		return rec.Pause()
	}
	return func() {}
}

// startRecording opens the call's recording file, when calls are recorded.
// A file that cannot be made is logged and the call goes on unrecorded.
func (c *call) startRecording() {
	if c.rec == nil {
		return
	}
	now := time.Now()
	path := recordingPath(c.srv.cfg.recordingsDir(), now, c.info.ID)
	rec, err := media.CreateRecording(path, media.RecorderConfig{Log: c.log})
	if err != nil {
		c.log.Error("recording not started; the call goes on unrecorded", "error", err)
		return
	}
	c.rec.path, c.rec.start = path, now
	c.rec.rec.Store(rec)
}

// finishRecording closes the recording once the call's media has stopped
// and lists it in the call record.
func (c *call) finishRecording() {
	if c.rec == nil {
		return
	}
	rec := c.rec.rec.Swap(nil)
	if rec == nil {
		return
	}
	info, err := rec.Close()
	if err != nil {
		c.log.Error("recording incomplete", "path", c.rec.path, "error", err)
	}
	c.log.Info("recording saved", "path", c.rec.path, "duration", info.Duration, "paused", info.PausedFor().Round(time.Millisecond),
		"pauses", len(info.Paused), "dropped_frames", info.Dropped)
	if c.srv.saveRec == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := Recording{CallID: c.info.ID, Path: c.rec.path, Start: c.rec.start, RecordingInfo: info}
	if err := c.srv.saveRec(ctx, r); err != nil {
		c.log.Error("recording not listed in the call record", "path", c.rec.path, "error", err)
	}
}

// Sensitive implements Call: the recording holds silence from now until
// resume is called and a short guard after it.
func (c *call) Sensitive() (resume func()) { return c.rec.pause() }
