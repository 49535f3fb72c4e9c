package softphone

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/supportline/ivr/media"
)

// recorder writes the far end's audio to a WAV file through a buffer, so
// the pacing loop does not make a system call per frame.
type recorder struct {
	f  *os.File
	bw *bufio.Writer
	w  *media.WAVWriter
}

func newRecorder(path string) (*recorder, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	r := &recorder{f: f, bw: bufio.NewWriterSize(f, 32<<10)}
	if r.w, err = media.NewWAVWriter(r, media.SampleRate, 1); err != nil {
		f.Close()
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	return r, nil
}

// Write buffers p.
func (r *recorder) Write(p []byte) (int, error) { return r.bw.Write(p) }

// Seek flushes the buffer and seeks the file.
func (r *recorder) Seek(off int64, whence int) (int64, error) {
	if err := r.bw.Flush(); err != nil {
		return 0, err
	}
	return r.f.Seek(off, whence)
}

// Close patches the WAV header and closes the file.
func (r *recorder) Close() error {
	err := r.w.Close()
	return errors.Join(err, r.bw.Flush(), r.f.Close())
}

var _ io.WriteSeeker = (*recorder)(nil)

// callSink is the session's Sink: it signals the first received frame,
// records, and feeds the activity detector. It runs on the pacing loop.
type callSink struct {
	rec   *recorder // may be nil
	act   *activity
	first chan struct{}
	once  sync.Once
}

func (s *callSink) String() string {
	if s.rec != nil {
		return "Tee(WAVWriter, Activity)"
	}
	return "Activity"
}

func (s *callSink) SampleRate() int { return media.SampleRate }

func (s *callSink) WriteSample(f []int16) error {
	now := time.Now()
	s.once.Do(func() { close(s.first) })
	var err error
	if s.rec != nil {
		err = s.rec.w.WriteSample(f)
	}
	s.act.frame(f, now)
	return err
}
