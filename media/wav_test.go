package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	copy(m.b[m.off:], p)
	m.off += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.off = off
	case io.SeekCurrent:
		m.off += off
	case io.SeekEnd:
		m.off = int64(len(m.b)) + off
	}
	return m.off, nil
}

type chunk struct {
	id   string
	data []byte
}

// riff assembles a RIFF/WAVE file from chunks, padding odd sizes.
func riff(chunks ...chunk) []byte {
	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, c := range chunks {
		body.WriteString(c.id)
		binary.Write(&body, binary.LittleEndian, uint32(len(c.data)))
		body.Write(c.data)
		if len(c.data)%2 == 1 {
			body.WriteByte(0)
		}
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

func fmtChunk(tag uint16, ch, rate, bits, width int) chunk {
	b := make([]byte, 16)
	le := binary.LittleEndian
	le.PutUint16(b[0:], tag)
	le.PutUint16(b[2:], uint16(ch))
	le.PutUint32(b[4:], uint32(rate))
	le.PutUint32(b[8:], uint32(rate*ch*width))
	le.PutUint16(b[12:], uint16(ch*width))
	le.PutUint16(b[14:], uint16(bits))
	return chunk{"fmt ", b}
}

func extensibleChunk(sub uint16, ch, rate, bits, width int) chunk {
	c := fmtChunk(wavExtensible, ch, rate, bits, width)
	ext := make([]byte, 24)
	binary.LittleEndian.PutUint16(ext[0:], 22)
	binary.LittleEndian.PutUint16(ext[2:], uint16(bits))
	binary.LittleEndian.PutUint16(ext[8:], sub)
	copy(ext[10:], "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71")
	c.data = append(c.data, ext...)
	return c
}

func f32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func f64(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func TestReadWAVFormats(t *testing.T) {
	list := chunk{"LIST", []byte("INFOISFT\x05\x00\x00\x00test\x00")} // odd size
	tests := []struct {
		name     string
		file     []byte
		rate, ch int
		want     []int16
	}{
		{"pcm16 mono", riff(fmtChunk(1, 1, 8000, 16, 2), chunk{"data", []byte{0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f}}),
			8000, 1, []int16{1, -1, -32768, 32767}},
		{"pcm8 unsigned", riff(fmtChunk(1, 1, 11025, 8, 1), chunk{"data", []byte{0x80, 0x00, 0xff}}),
			11025, 1, []int16{0, -32768, 127 << 8}},
		{"pcm24 stereo", riff(fmtChunk(1, 2, 48000, 24, 3), chunk{"data", []byte{0xaa, 0x34, 0x12, 0x00, 0x00, 0x80}}),
			48000, 2, []int16{0x1234, -32768}},
		{"pcm32", riff(fmtChunk(1, 1, 16000, 32, 4), chunk{"data", []byte{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0x80}}),
			16000, 1, []int16{32767, -32768}},
		{"float32", riff(fmtChunk(3, 1, 44100, 32, 4), chunk{"data", f32(0, 0.5, -1, 2, -2)}),
			44100, 1, []int16{0, 16384, -32768, 32767, -32768}},
		{"float64", riff(fmtChunk(3, 1, 44100, 64, 8), chunk{"data", f64(0.25, float64(math.NaN()))}),
			44100, 1, []int16{8192, 0}},
		{"ulaw", riff(fmtChunk(7, 1, 8000, 8, 1), chunk{"fact", []byte{3, 0, 0, 0}}, chunk{"data", []byte{0xff, 0x80, 0x00}}),
			8000, 1, []int16{0, 32124, -32124}},
		{"alaw", riff(fmtChunk(6, 1, 8000, 8, 1), chunk{"data", []byte{0xd5, 0xaa, 0x2a}}),
			8000, 1, []int16{8, 32256, -32256}},
		{"extensible pcm24", riff(extensibleChunk(1, 1, 96000, 24, 3), chunk{"data", []byte{0, 0x00, 0x40}}),
			96000, 1, []int16{0x4000}},
		{"extensible float", riff(extensibleChunk(3, 1, 48000, 32, 4), chunk{"data", f32(-0.5)}),
			48000, 1, []int16{-16384}},
		{"20 bits in 24", riff(fmtChunk(1, 1, 8000, 20, 3), chunk{"data", []byte{0x00, 0x00, 0xc0}}),
			8000, 1, []int16{-16384}},
		{"LIST before data, odd size", riff(fmtChunk(1, 1, 8000, 16, 2), list, chunk{"data", []byte{5, 0}}),
			8000, 1, []int16{5}},
		{"LIST before fmt", riff(list, fmtChunk(1, 1, 8000, 16, 2), chunk{"data", []byte{7, 0}}),
			8000, 1, []int16{7}},
		{"chunk after data ignored", riff(fmtChunk(1, 1, 8000, 16, 2), chunk{"data", []byte{9, 0}}, list),
			8000, 1, []int16{9}},
		{"empty data then LIST", riff(fmtChunk(1, 1, 8000, 16, 2), chunk{"data", nil}, list),
			8000, 1, []int16{}},
		{"partial last frame dropped", riff(fmtChunk(1, 2, 8000, 16, 2), chunk{"data", []byte{1, 0, 2, 0, 3, 0}}),
			8000, 2, []int16{1, 2}},
		{"six channels", riff(fmtChunk(1, 6, 48000, 16, 2), chunk{"data", make([]byte, 24)}),
			48000, 6, make([]int16, 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ReadWAV(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != tt.rate || a.Channels != tt.ch {
				t.Errorf("rate/channels = %d/%d, want %d/%d", a.Rate, a.Channels, tt.rate, tt.ch)
			}
			if !equal16(a.Samples, tt.want) {
				t.Errorf("samples = %v, want %v", a.Samples, tt.want)
			}
		})
	}
}

func TestReadWAVStreamedSizes(t *testing.T) {
	// A recorder that never patched its header: sizes 0, or 0xFFFFFFFF.
	hdr := func(riffSize, dataSize uint32) []byte {
		b := riff(fmtChunk(1, 1, 8000, 16, 2), chunk{"data", nil})
		binary.LittleEndian.PutUint32(b[4:], riffSize)
		binary.LittleEndian.PutUint32(b[40:], dataSize)
		return append(b, 1, 0, 2, 0, 3, 0)
	}
	tests := []struct {
		name string
		file []byte
	}{
		{"zero sizes", hdr(36, 0)},
		{"max sizes", hdr(math.MaxUint32, math.MaxUint32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ReadWAV(bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if want := []int16{1, 2, 3}; !equal16(a.Samples, want) {
				t.Errorf("samples = %v, want %v", a.Samples, want)
			}
		})
	}
}

func TestReadWAVErrors(t *testing.T) {
	good := riff(fmtChunk(1, 1, 8000, 16, 2), chunk{"data", []byte{1, 0, 2, 0}})
	tests := []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"short header", []byte("RIFF\x00\x00")},
		{"not RIFF", append([]byte("RIFX"), good[4:]...)},
		{"not WAVE", append(append([]byte{}, good[:8]...), append([]byte("AVI "), good[12:]...)...)},
		{"no chunks", good[:12]},
		{"no data chunk", riff(fmtChunk(1, 1, 8000, 16, 2))},
		{"data before fmt", riff(chunk{"data", []byte{1, 0}}, fmtChunk(1, 1, 8000, 16, 2))},
		{"fmt too short", riff(chunk{"fmt ", make([]byte, 14)}, chunk{"data", nil})},
		{"fmt truncated", good[:30]},
		{"zero channels", riff(fmtChunk(1, 0, 8000, 16, 2), chunk{"data", nil})},
		{"zero rate", riff(fmtChunk(1, 1, 0, 16, 2), chunk{"data", nil})},
		{"mp3 tag", riff(fmtChunk(0x55, 1, 8000, 0, 1), chunk{"data", nil})},
		{"pcm 12 bits in 1 byte", riff(fmtChunk(1, 1, 8000, 12, 1), chunk{"data", nil})},
		{"pcm 5 bytes", riff(fmtChunk(1, 1, 8000, 40, 5), chunk{"data", nil})},
		{"float16", riff(fmtChunk(3, 1, 8000, 16, 2), chunk{"data", nil})},
		{"ulaw 16 bit", riff(fmtChunk(7, 1, 8000, 16, 2), chunk{"data", nil})},
		{"block align not multiple", func() []byte {
			c := fmtChunk(1, 2, 8000, 16, 2)
			binary.LittleEndian.PutUint16(c.data[12:], 3)
			return riff(c, chunk{"data", nil})
		}()},
		{"truncated data", good[:len(good)-1]},
		{"truncated unknown chunk", riff(fmtChunk(1, 1, 8000, 16, 2), chunk{"LIST", make([]byte, 10)})[:60]},
		{"short extensible", riff(chunk{"fmt ", fmtChunk(0xFFFE, 1, 8000, 16, 2).data}, chunk{"data", nil})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ReadWAV(bytes.NewReader(tt.file))
			if !errors.Is(err, ErrBadWAV) {
				t.Fatalf("err = %v (audio %v), want ErrBadWAV", err, a)
			}
		})
	}
}

func TestWAVWriterRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		rate, ch int
		writes   [][]int16
	}{
		{"mono 8k frames", 8000, 1, [][]int16{sine(160, 8000, 1000, 9000), sine(160, 8000, 1000, 9000), {}}},
		{"stereo 44.1k", 44100, 2, [][]int16{{1, -1, 32767, -32768}, {5, 6}}},
		{"empty", 16000, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f memFile
			w, err := NewWAVWriter(&f, tt.rate, tt.ch)
			if err != nil {
				t.Fatal(err)
			}
			var want []int16
			for _, s := range tt.writes {
				if err := w.Write(s); err != nil {
					t.Fatal(err)
				}
				want = append(want, s...)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if err := w.Write([]int16{1}); err == nil {
				t.Error("Write after Close: no error")
			}
			if got := int64(len(f.b)); got != wavHeaderLen+int64(2*len(want)) || f.off != got {
				t.Errorf("file %d bytes at offset %d, want %d at end", got, f.off, wavHeaderLen+2*len(want))
			}
			// Append a trailing chunk: the patched data size must stop the reader.
			f.b = append(f.b, "LIST\x04\x00\x00\x00abcd"...)
			binary.LittleEndian.PutUint32(f.b[4:], uint32(len(f.b)-8))
			a, err := ReadWAV(bytes.NewReader(f.b))
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != tt.rate || a.Channels != tt.ch || !equal16(a.Samples, want) {
				t.Errorf("read back %d Hz %d ch %d samples, want %d Hz %d ch %d", a.Rate, a.Channels, len(a.Samples), tt.rate, tt.ch, len(want))
			}
		})
	}
}

func TestWAVWriterUnclosedIsReadable(t *testing.T) {
	var f memFile
	w, err := NewWAVWriter(&f, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	a, err := ReadWAV(bytes.NewReader(f.b))
	if err != nil {
		t.Fatal(err)
	}
	if !equal16(a.Samples, []int16{3, 4, 5}) {
		t.Errorf("samples = %v", a.Samples)
	}
}

func TestWAVWriterIsPCM16Writer(t *testing.T) {
	var f memFile
	w, err := NewWAVWriter(&f, SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	var stage PCM16Writer = w
	if stage.SampleRate() != SampleRate || stage.String() != "WAVWriter(8000 Hz, 1 ch)" {
		t.Errorf("stage %q at %d Hz", stage.String(), stage.SampleRate())
	}
	frame := sine(FrameSamples, SampleRate, 440, 5000)
	for range 3 {
		if err := stage.WriteSample(frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := ReadWAV(bytes.NewReader(f.b))
	if err != nil {
		t.Fatal(err)
	}
	if a.Frames() != 3*FrameSamples {
		t.Errorf("frames = %d, want %d", a.Frames(), 3*FrameSamples)
	}
}

func TestNewWAVWriterBadArgs(t *testing.T) {
	for _, tt := range []struct{ rate, ch int }{{0, 1}, {8000, 0}, {-1, 1}, {8000, 65}} {
		if _, err := NewWAVWriter(&memFile{}, tt.rate, tt.ch); !errors.Is(err, ErrBadSampleRate) {
			t.Errorf("NewWAVWriter(%d, %d): err = %v", tt.rate, tt.ch, err)
		}
	}
}

func TestAudioMono8k(t *testing.T) {
	tests := []struct {
		name     string
		rate, ch int
	}{
		{"stereo 48k", 48000, 2},
		{"stereo 44.1k", 44100, 2},
		{"mono 8k", 8000, 1},
		{"4ch 16k", 16000, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mono := sine(tt.rate/2, tt.rate, 1000, 12000)
			a := &Audio{Rate: tt.rate, Channels: tt.ch, Samples: make([]int16, len(mono)*tt.ch)}
			for i, v := range mono {
				for c := range tt.ch {
					a.Samples[i*tt.ch+c] = v
				}
			}
			out := a.Mono8k()
			if len(out) != 4000 {
				t.Fatalf("len = %d, want 4000", len(out))
			}
			mid := out[400:3600]
			if got := toneAmp(mid, 8000, 1000); math.Abs(db(got/12000)) > 0.1 {
				t.Errorf("level %.2f dB", db(got/12000))
			}
		})
	}
}

// Files written by sox, a reader and writer no one here wrote.
func TestReadWAVFileSox(t *testing.T) {
	sox := needTool(t, "sox")
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string // output encoding options
		rate int
		ch   int
	}{
		{"s16 stereo 44.1k", []string{"-b", "16", "-e", "signed-integer"}, 44100, 2},
		{"s24 mono 48k", []string{"-b", "24", "-e", "signed-integer"}, 48000, 1},
		{"u8 mono 22.05k", []string{"-b", "8", "-e", "unsigned-integer"}, 22050, 1},
		{"float stereo 32k", []string{"-b", "32", "-e", "floating-point"}, 32000, 2},
		{"ulaw 8k", []string{"-e", "u-law"}, 8000, 1},
		{"alaw 8k", []string{"-e", "a-law"}, 8000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".wav")
			args := append([]string{"-n", "-r", itoa(tt.rate), "-c", itoa(tt.ch)}, tt.args...)
			args = append(args, path, "synth", "0.5", "sine", "1000", "vol", "0.5")
			if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
				t.Fatalf("sox: %v\n%s", err, out)
			}
			a, err := ReadWAVFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if a.Rate != tt.rate || a.Channels != tt.ch || a.Frames() != tt.rate/2 {
				t.Fatalf("got %d Hz %d ch %d frames", a.Rate, a.Channels, a.Frames())
			}
			mid := a.Mono8k()[400:3600]
			if got := toneAmp(mid, 8000, 1000); math.Abs(db(got/16384)) > 0.3 {
				t.Errorf("1 kHz at %.2f dB re half scale", db(got/16384))
			}
		})
	}
	if _, err := ReadWAVFile(filepath.Join(dir, "missing.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

// FuzzReadWAV checks that no input makes ReadWAV panic and that whatever it
// accepts survives a write/read round trip.
func FuzzReadWAV(f *testing.F) {
	f.Add(riff(fmtChunk(1, 1, 8000, 16, 2), chunk{"data", []byte{1, 0, 2, 0}}))
	f.Add(riff(extensibleChunk(3, 2, 48000, 32, 4), chunk{"LIST", []byte("x")}, chunk{"data", f32(0.5, -0.5)}))
	f.Add(riff(fmtChunk(7, 1, 8000, 8, 1), chunk{"data", []byte{0xff, 0x00}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadWAV(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrBadWAV) {
				t.Fatalf("error %v does not wrap ErrBadWAV", err)
			}
			return
		}
		if a.Channels < 1 || a.Rate < 1 || len(a.Samples)%a.Channels != 0 {
			t.Fatalf("accepted %d Hz %d ch %d samples", a.Rate, a.Channels, len(a.Samples))
		}
		var m memFile
		w, err := NewWAVWriter(&m, a.Rate, a.Channels)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(a.Samples); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b2, err := ReadWAV(bytes.NewReader(m.b))
		if err != nil || !equal16(b2.Samples, a.Samples) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// needTool returns the path of an external program; without it the test
// fails under CI and is skipped elsewhere.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (scripts/install-deps.sh installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func equal16(a, b []int16) bool { return slices.Equal(a, b) }

func itoa(n int) string { return strconv.Itoa(n) }
