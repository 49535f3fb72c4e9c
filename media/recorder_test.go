package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// fakeClock is a settable clock for the recorder's timeline.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// recFile is an in-memory io.WriteSeeker.
type recFile struct {
	mu  sync.Mutex
	buf []byte
	pos int
}

func (m *recFile) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if need := m.pos + len(p); need > len(m.buf) {
		m.buf = append(m.buf, make([]byte, need-len(m.buf))...)
	}
	copy(m.buf[m.pos:], p)
	m.pos += len(p)
	return len(p), nil
}

func (m *recFile) Seek(off int64, whence int) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch whence {
	case io.SeekStart:
		m.pos = int(off)
	case io.SeekCurrent:
		m.pos += int(off)
	case io.SeekEnd:
		m.pos = len(m.buf) + int(off)
	}
	return int64(m.pos), nil
}

func (m *recFile) bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.buf...)
}

func checkRoutines(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// toneFrames cuts a DTMF tone of digit into frames.
func toneFrames(digit byte, frames int) [][]int16 {
	pcm := GenerateDTMF(digit, time.Duration(frames)*FrameDuration, 0.3)
	var out [][]int16
	for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
		out = append(out, pcm[i:i+FrameSamples])
	}
	return out
}

// split returns the left and right channels of a stereo recording.
func split(t *testing.T, wav []byte) (left, right []int16) {
	t.Helper()
	a, err := ReadWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	if a.Channels != 2 || a.Rate != SampleRate {
		t.Fatalf("%d channels at %d Hz, want 2 at 8000", a.Channels, a.Rate)
	}
	for i := 0; i+1 < len(a.Samples); i += 2 {
		left, right = append(left, a.Samples[i]), append(right, a.Samples[i+1])
	}
	return left, right
}

// keys runs the in-band detector over pcm.
func keys(pcm []int16) string {
	d := NewDTMFDetector()
	var s []byte
	for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
		for _, k := range d.Process(pcm[i : i+FrameSamples]) {
			s = append(s, k.Digit)
		}
	}
	for _, k := range d.Flush() {
		s = append(s, k.Digit)
	}
	return string(s)
}

func energy(pcm []int16) float64 {
	var e float64
	for _, v := range pcm {
		e += float64(v) * float64(v)
	}
	return e
}

func newTestRecorder(t *testing.T, w io.WriteSeeker, clk *fakeClock, cfg RecorderConfig) *Recorder {
	t.Helper()
	cfg.Now = clk.now
	r, err := NewRecorder(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRecorderChannels: the caller's frames go left, ours right, each
// whole; the header sizes match the data.
func TestRecorderChannels(t *testing.T) {
	checkRoutines(t)
	var f recFile
	clk := &fakeClock{}
	r := newTestRecorder(t, &f, clk, RecorderConfig{})
	left, right := toneFrames('1', 25), toneFrames('9', 25)
	for i := range left {
		_ = r.Agent().WriteSample(right[i])
		_ = r.Caller().WriteSample(left[i])
		clk.advance(FrameDuration)
	}
	info, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration != 25*FrameDuration || info.Dropped != 0 || len(info.Paused) != 0 {
		t.Errorf("info %+v", info)
	}
	wav := f.bytes()
	data := uint32(25 * FrameSamples * 4)
	if got := binary.LittleEndian.Uint32(wav[40:]); got != data {
		t.Errorf("data size %d, want %d", got, data)
	}
	if got := binary.LittleEndian.Uint32(wav[4:]); got != 36+data || len(wav) != 44+int(data) {
		t.Errorf("RIFF size %d, file %d bytes", got, len(wav))
	}
	l, rr := split(t, wav)
	if k := keys(l); k != "1" {
		t.Errorf("left channel keys %q, want 1", k)
	}
	if k := keys(rr); k != "9" {
		t.Errorf("right channel keys %q, want 9", k)
	}
	for i, v := range l[:FrameSamples] {
		if v != left[0][i] {
			t.Fatalf("left sample %d = %d, want %d", i, v, left[0][i])
		}
	}
}

// TestRecorderTimeline: a channel that skips frames gets silence there,
// never a shift; a channel that starts late starts at its time.
func TestRecorderTimeline(t *testing.T) {
	checkRoutines(t)
	var f recFile
	clk := &fakeClock{}
	r := newTestRecorder(t, &f, clk, RecorderConfig{})
	tone := toneFrames('5', 40)
	for i := range 40 {
		_ = r.Agent().WriteSample(tone[i])
		// The caller starts at frame 10, is missing 20..29 (a stall) and
		// back for 30..39.
		if i >= 10 && (i < 20 || i >= 30) {
			_ = r.Caller().WriteSample(tone[i])
		}
		clk.advance(FrameDuration)
	}
	if _, err := r.Close(); err != nil {
		t.Fatal(err)
	}
	l, rr := split(t, f.bytes())
	if len(l) != 40*FrameSamples {
		t.Fatalf("%d samples, want %d", len(l), 40*FrameSamples)
	}
	for fr := range 40 {
		want := fr >= 10 && (fr < 20 || fr >= 30)
		got := l[fr*FrameSamples : (fr+1)*FrameSamples]
		if (energy(got) > 0) != want {
			t.Errorf("left frame %d: audio %v, want %v", fr, energy(got) > 0, want)
		}
		if want && got[7] != tone[fr][7] {
			t.Errorf("left frame %d shifted", fr)
		}
		if rr[fr*FrameSamples+7] != tone[fr][7] {
			t.Errorf("right frame %d shifted", fr)
		}
	}
}

// TestRecorderPause: nothing of either channel is written from Pause to
// the resume plus the guard; the window is reported.
func TestRecorderPause(t *testing.T) {
	checkRoutines(t)
	var f recFile
	clk := &fakeClock{}
	r := newTestRecorder(t, &f, clk, RecorderConfig{Guard: 100 * time.Millisecond})
	tone := toneFrames('7', 50)
	var resume func()
	for i := range 50 {
		switch i {
		case 10:
			resume = r.Pause()
		case 20:
			resume()
			resume() // a second call does nothing
		}
		_ = r.Agent().WriteSample(tone[i])
		_ = r.Caller().WriteSample(tone[i])
		clk.advance(FrameDuration)
	}
	info, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := []PauseInterval{{200 * time.Millisecond, 500 * time.Millisecond}}
	if len(info.Paused) != 1 || info.Paused[0] != want[0] || info.PausedFor() != 300*time.Millisecond {
		t.Errorf("paused %+v, want %+v", info.Paused, want)
	}
	wav := f.bytes()
	if got := binary.LittleEndian.Uint32(wav[4:]); int(got) != len(wav)-8 {
		t.Errorf("RIFF size %d, file %d bytes", got, len(wav))
	}
	// The window is a labelled region of the cue list: at sample 1600,
	// 2400 samples long.
	cue := bytes.Index(wav, []byte("cue "))
	if cue != 44+50*FrameSamples*4 || binary.LittleEndian.Uint32(wav[cue+16:]) != 1600 ||
		!bytes.Contains(wav, []byte("ltxt\x14\x00\x00\x00\x01\x00\x00\x00\x60\x09\x00\x00rgn ")) ||
		!bytes.Contains(wav, []byte("labl\x0e\x00\x00\x00\x01\x00\x00\x00PCI pause\x00")) {
		t.Errorf("no cue region for the pause at %d: % x", cue, wav[max(cue, 0):])
	}
	l, rr := split(t, wav)
	for fr := range 50 {
		silent := fr >= 10 && fr < 25
		for _, ch := range [][]int16{l, rr} {
			if got := energy(ch[fr*FrameSamples : (fr+1)*FrameSamples]); (got == 0) != silent {
				t.Errorf("frame %d: energy %.0f, want silent %v", fr, got, silent)
			}
		}
	}
}

// TestRecorderCloseOpenPause: a recording closed while paused (the caller
// hung up in the PIN step) ends the window at the close.
func TestRecorderCloseOpenPause(t *testing.T) {
	checkRoutines(t)
	var f recFile
	clk := &fakeClock{}
	r := newTestRecorder(t, &f, clk, RecorderConfig{})
	_ = r.Caller().WriteSample(make([]int16, FrameSamples))
	clk.advance(FrameDuration)
	_ = r.Pause()
	clk.advance(time.Second)
	info, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Paused) != 1 || info.Paused[0] != (PauseInterval{FrameDuration, FrameDuration + time.Second}) {
		t.Errorf("paused %+v", info.Paused)
	}
	if again, err := r.Close(); err != nil || again.Duration != info.Duration {
		t.Errorf("second Close: %+v, %v", again, err)
	}
	_ = r.Caller().WriteSample(make([]int16, FrameSamples)) // after Close: ignored
}

// TestRecorderEmpty: a call with no audio leaves a valid empty WAV.
func TestRecorderEmpty(t *testing.T) {
	checkRoutines(t)
	path := filepath.Join(t.TempDir(), "rec", "empty.wav")
	r, err := CreateRecording(path, RecorderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := r.Close(); err != nil || info.Duration != 0 {
		t.Fatalf("close: %+v %v", info, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o640 || st.Size() != 44 {
		t.Fatalf("file %v %v", st, err)
	}
	if d, _ := os.Stat(filepath.Dir(path)); d.Mode().Perm() != 0o750 {
		t.Errorf("dir mode %v", d.Mode())
	}
	if _, err := CreateRecording(path, RecorderConfig{}); !errors.Is(err, os.ErrExist) {
		t.Errorf("second create: %v, want ErrExist", err)
	}
}

// blockingFile blocks every write after the header until release closes.
type blockingFile struct {
	recFile
	release chan struct{}
	header  atomic.Bool
}

func (b *blockingFile) Write(p []byte) (int, error) {
	if b.header.Swap(true) {
		<-b.release
	}
	return b.recFile.Write(p)
}

// TestRecorderSlowDisk: with the disk stuck, the taps never block; the
// frames that do not fit are dropped and counted.
func TestRecorderSlowDisk(t *testing.T) {
	checkRoutines(t)
	bf := &blockingFile{release: make(chan struct{})}
	clk := &fakeClock{}
	r := newTestRecorder(t, bf, clk, RecorderConfig{Queue: 40})
	frame := toneFrames('3', 1)[0]
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 500 {
			_ = r.Caller().WriteSample(frame)
			_ = r.Agent().WriteSample(frame)
			clk.advance(FrameDuration)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the taps blocked on a stuck disk")
	}
	if r.Dropped() == 0 {
		t.Error("no frame dropped with the disk stuck")
	}
	close(bf.release)
	info, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if info.Dropped == 0 || info.Duration == 0 {
		t.Errorf("info %+v", info)
	}
	t.Logf("dropped %d of 1000 frames, %v written", info.Dropped, info.Duration)
}

// failingFile fails every write after the header (disk full).
type failingFile struct {
	recFile
	n int
}

func (f *failingFile) Write(p []byte) (int, error) {
	if f.n++; f.n > 1 {
		return 0, errors.New("no space left on device")
	}
	return f.recFile.Write(p)
}

// TestRecorderDiskFull: write errors drop the recording, not the call.
func TestRecorderDiskFull(t *testing.T) {
	checkRoutines(t)
	clk := &fakeClock{}
	r := newTestRecorder(t, &failingFile{}, clk, RecorderConfig{})
	for range 100 {
		_ = r.Caller().WriteSample(make([]int16, FrameSamples))
		clk.advance(FrameDuration)
	}
	info, err := r.Close()
	if err == nil || info.Dropped != 200 || info.Duration != 0 {
		t.Errorf("info %+v, err %v", info, err)
	}
}

// TestRepairWAV: a recording never closed (a crash) is readable and its
// header is fixed from the file's length.
func TestRepairWAV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWAVWriter(f, SampleRate, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]int16, 2*FrameSamples*10)); err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte{1}) // half a sample: cut off
	f.Close()                 // no w.Close: the header still says 0
	if a, err := ReadWAVFile(path); err != nil || a.Frames() != FrameSamples*10 {
		t.Fatalf("before repair: %v", err)
	}
	n, err := RepairWAV(path)
	if err != nil || n != 4*FrameSamples*10 {
		t.Fatalf("repair: %d %v", n, err)
	}
	raw, _ := os.ReadFile(path)
	if binary.LittleEndian.Uint32(raw[40:]) != uint32(n) || binary.LittleEndian.Uint32(raw[4:]) != uint32(36+n) ||
		len(raw) != 44+int(n) {
		t.Errorf("header not repaired: % x", raw[:44])
	}
	if _, err := RepairWAV(filepath.Join(t.TempDir(), "none.wav")); err == nil {
		t.Error("repair of a missing file: no error")
	}
}

// BenchmarkRecorderFrame is the media path's cost per 20 ms tick: one
// frame into each channel's tap (the writer goroutine runs beside it).
func BenchmarkRecorderFrame(b *testing.B) {
	r, err := NewRecorder(&discardSeeker{}, RecorderConfig{})
	if err != nil {
		b.Fatal(err)
	}
	frame := toneFrames('1', 1)[0]
	left, right := r.Caller(), r.Agent()
	b.ReportAllocs()
	for b.Loop() {
		_ = left.WriteSample(frame)
		_ = right.WriteSample(frame)
	}
	b.StopTimer()
	if _, err := r.Close(); err != nil {
		b.Fatal(err)
	}
}

// discardSeeker is a WriteSeeker that keeps nothing.
type discardSeeker struct{}

func (discardSeeker) Write(p []byte) (int, error)    { return len(p), nil }
func (discardSeeker) Seek(int64, int) (int64, error) { return 0, nil }

// BenchmarkSendTickRecorded is BenchmarkSendTick with the recording's
// right channel on the session's SendTap: the recording's share of the
// pacing loop's work per packet.
func BenchmarkSendTickRecorded(b *testing.B) {
	r, err := NewRecorder(&discardSeeker{}, RecorderConfig{})
	if err != nil {
		b.Fatal(err)
	}
	s := newBenchSession(b, SessionConfig{Codec: PCMU, SendTap: r.Agent()})
	sd := newSender(s)
	s.SetSource(rtpTestTone(1000, 8000))
	b.ReportAllocs()
	for b.Loop() {
		pkt := sd.audioPayload()
		putRTPHeader(pkt, false, 0, sd.seq, sd.ts0+uint32(sd.frames)*FrameSamples, sd.ssrc)
		sd.seq++
		sd.frames++
	}
	b.StopTimer()
	if _, err := r.Close(); err != nil {
		b.Fatal(err)
	}
}
