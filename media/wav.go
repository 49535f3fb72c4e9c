package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// RIFF/WAVE files (Microsoft RIFF spec; WAVE_FORMAT_EXTENSIBLE from the
// Windows multimedia docs). Every readable format is converted to 16-bit
// linear PCM on the way in.

// WAVE format tags.
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavALaw       = 0x0006
	wavULaw       = 0x0007
	wavExtensible = 0xFFFE
)

const (
	wavMaxChannels = 64
	wavMaxRate     = 1_000_000
)

// Audio is decoded PCM: Samples holds Channels interleaved channels at Rate
// samples per second per channel.
type Audio struct {
	Rate     int
	Channels int
	Samples  []int16 // interleaved
}

// Frames returns the number of sample frames (samples per channel).
func (a *Audio) Frames() int {
	if a.Channels <= 0 {
		return 0
	}
	return len(a.Samples) / a.Channels
}

// Mono8k returns the audio downmixed to one channel and resampled to
// 8 kHz, ready to cut into frames.
func (a *Audio) Mono8k() []int16 {
	mono := downmix(a.Samples, a.Channels)
	if a.Rate == SampleRate {
		return mono
	}
	return Resample(mono, a.Rate, SampleRate)
}

// wavFormat is the part of the fmt chunk the decoder needs.
type wavFormat struct {
	tag        uint16
	channels   int
	rate       int
	blockAlign int
	bits       int
}

// ReadWAVFile reads a whole WAV file; see ReadWAV.
func ReadWAVFile(path string) (*Audio, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := ReadWAV(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// ReadWAV decodes a RIFF/WAVE stream up to the end of its data chunk. It
// reads integer PCM of 8 (unsigned), 16, 24 and 32 bits, 32- and 64-bit
// IEEE float, μ-law and A-law, plain or WAVE_FORMAT_EXTENSIBLE, any channel
// count and rate, and skips chunks it does not know (LIST, fact, cue …).
// A data chunk whose size is 0xFFFFFFFF, or 0 with a RIFF size that ends
// there (a streaming recorder that never went back), is read to end of
// input. Errors wrap
// ErrBadWAV and say what is wrong.
func ReadWAV(r io.Reader) (*Audio, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: reading RIFF header: %w", ErrBadWAV, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: not a RIFF/WAVE file (starts %q)", ErrBadWAV, hdr[:])
	}
	riffSize := int64(binary.LittleEndian.Uint32(hdr[4:8]))
	pos := int64(len(hdr)) // bytes consumed
	var fmtc *wavFormat
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if fmtc == nil {
				return nil, fmt.Errorf("%w: no fmt chunk: %w", ErrBadWAV, err)
			}
			return nil, fmt.Errorf("%w: no data chunk: %w", ErrBadWAV, err)
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		pos += int64(len(ch))
		switch id {
		case "fmt ":
			f, err := readWAVFormat(r, size)
			if err != nil {
				return nil, err
			}
			fmtc = f
		case "data":
			if fmtc == nil {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrBadWAV)
			}
			// A streaming writer that never patched its header leaves 0 (or
			// 0xFFFFFFFF) here and a RIFF size that ends at this chunk.
			toEOF := size == math.MaxUint32 || size == 0 && riffSize+8 <= pos
			return readWAVData(r, size, toEOF, fmtc)
		default:
			if err := skip(r, size+size&1); err != nil {
				return nil, fmt.Errorf("%w: skipping %q chunk: %w", ErrBadWAV, id, err)
			}
		}
		pos += size + size&1
	}
}

func readWAVFormat(r io.Reader, size int64) (*wavFormat, error) {
	if size < 16 || size > 1024 {
		return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrBadWAV, size)
	}
	b := make([]byte, size+size&1)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("%w: reading fmt chunk: %w", ErrBadWAV, err)
	}
	le := binary.LittleEndian
	f := &wavFormat{
		tag:        le.Uint16(b[0:2]),
		channels:   int(le.Uint16(b[2:4])),
		rate:       int(le.Uint32(b[4:8])),
		blockAlign: int(le.Uint16(b[12:14])),
		bits:       int(le.Uint16(b[14:16])),
	}
	if f.tag == wavExtensible {
		// cbSize(2) validBits(2) channelMask(4) subFormat GUID(16): the GUID's
		// first two bytes are the real format tag.
		if size < 40 {
			return nil, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE fmt chunk of %d bytes, want 40", ErrBadWAV, size)
		}
		f.tag = le.Uint16(b[24:26])
	}
	if f.channels < 1 || f.channels > wavMaxChannels {
		return nil, fmt.Errorf("%w: %d channels", ErrBadWAV, f.channels)
	}
	if f.rate < 1 || f.rate > wavMaxRate {
		return nil, fmt.Errorf("%w: sample rate %d Hz", ErrBadWAV, f.rate)
	}
	if f.blockAlign%f.channels != 0 {
		return nil, fmt.Errorf("%w: block align %d not a multiple of %d channels", ErrBadWAV, f.blockAlign, f.channels)
	}
	width := f.blockAlign / f.channels // container bytes per sample
	ok := false
	switch f.tag {
	case wavPCM:
		ok = width >= 1 && width <= 4 && f.bits <= 8*width && f.bits > 8*(width-1)
	case wavFloat:
		ok = (width == 4 && f.bits == 32) || (width == 8 && f.bits == 64)
	case wavALaw, wavULaw:
		ok = width == 1 && f.bits == 8
	default:
		return nil, fmt.Errorf("%w: unsupported format tag 0x%04x", ErrBadWAV, f.tag)
	}
	if !ok {
		return nil, fmt.Errorf("%w: format 0x%04x with %d bits in %d-byte samples", ErrBadWAV, f.tag, f.bits, width)
	}
	return f, nil
}

func readWAVData(r io.Reader, size int64, toEOF bool, f *wavFormat) (*Audio, error) {
	var raw []byte
	var err error
	if toEOF {
		raw, err = io.ReadAll(r)
	} else {
		raw, err = io.ReadAll(io.LimitReader(r, size))
		if err == nil && int64(len(raw)) < size {
			err = fmt.Errorf("data chunk truncated: %d of %d bytes", len(raw), size)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadWAV, err)
	}
	raw = raw[:len(raw)-len(raw)%f.blockAlign] // drop a partial last frame
	width := f.blockAlign / f.channels
	n := len(raw) / width
	a := &Audio{Rate: f.rate, Channels: f.channels, Samples: make([]int16, n)}
	decodeWAVSamples(a.Samples, raw, f.tag, width)
	return a, nil
}

// decodeWAVSamples converts n = len(dst) samples of width bytes each.
func decodeWAVSamples(dst []int16, raw []byte, tag uint16, width int) {
	le := binary.LittleEndian
	for i := range dst {
		b := raw[i*width : i*width+width]
		switch {
		case tag == wavULaw:
			dst[i] = ULawToLinear(b[0])
		case tag == wavALaw:
			dst[i] = ALawToLinear(b[0])
		case tag == wavFloat && width == 4:
			dst[i] = floatToPCM(float64(math.Float32frombits(le.Uint32(b))))
		case tag == wavFloat:
			dst[i] = floatToPCM(math.Float64frombits(le.Uint64(b)))
		case width == 1:
			dst[i] = int16(int(b[0])-128) << 8 // 8-bit PCM is unsigned
		default:
			// Little-endian signed: the top two bytes are the 16 MSBs.
			dst[i] = int16(le.Uint16(b[width-2:]))
		}
	}
}

func floatToPCM(v float64) int16 {
	if math.IsNaN(v) {
		return 0
	}
	return sat16(v * 32768)
}

// skip discards n bytes of r.
func skip(r io.Reader, n int64) error {
	if s, ok := r.(io.Seeker); ok {
		if _, err := s.Seek(n, io.SeekCurrent); err == nil {
			return nil
		}
	}
	got, err := io.CopyN(io.Discard, r, n)
	if err == io.EOF && got < n {
		return io.ErrUnexpectedEOF
	}
	return err
}

// WAVWriter writes 16-bit PCM WAV files. The header is written with zero
// sizes at once and patched by Close, so an interrupted recording is still
// readable by ReadWAV. A *WAVWriter is a PCM16Writer stage; it is not safe
// for concurrent use.
type WAVWriter struct {
	w        io.WriteSeeker
	rate     int
	channels int
	n        int64 // data bytes written
	buf      []byte
	err      error // sticky
	closed   bool
}

const wavHeaderLen = 44

// NewWAVWriter writes a WAV header for 16-bit PCM with the given rate and
// channel count to w and returns a writer for the samples. Close patches the
// sizes; it does not close w.
func NewWAVWriter(w io.WriteSeeker, rate, channels int) (*WAVWriter, error) {
	if rate < 1 || rate > wavMaxRate || channels < 1 || channels > wavMaxChannels {
		return nil, fmt.Errorf("%w: WAV of %d Hz, %d channels", ErrBadSampleRate, rate, channels)
	}
	ww := &WAVWriter{w: w, rate: rate, channels: channels}
	if _, err := w.Write(ww.header(0)); err != nil {
		return nil, fmt.Errorf("writing WAV header: %w", err)
	}
	return ww, nil
}

func (w *WAVWriter) header(dataLen uint32) []byte {
	h := make([]byte, wavHeaderLen)
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], 36+dataLen)
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], wavPCM)
	le.PutUint16(h[22:], uint16(w.channels))
	le.PutUint32(h[24:], uint32(w.rate))
	le.PutUint32(h[28:], uint32(w.rate*w.channels*2))
	le.PutUint16(h[32:], uint16(w.channels*2))
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], dataLen)
	return h
}

// Write appends interleaved samples.
func (w *WAVWriter) Write(samples []int16) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("writing WAV: %w", os.ErrClosed)
	}
	if w.n+int64(2*len(samples)) > math.MaxUint32-36 {
		w.err = fmt.Errorf("writing WAV: %w: data would exceed 4 GiB", ErrBadWAV)
		return w.err
	}
	w.buf = w.buf[:0]
	for _, s := range samples {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(s))
	}
	k, err := w.w.Write(w.buf)
	w.n += int64(k)
	if err != nil {
		w.err = fmt.Errorf("writing WAV: %w", err)
	}
	return w.err
}

// String names the stage, e.g. "WAVWriter(8000 Hz, 1 ch)".
func (w *WAVWriter) String() string {
	return fmt.Sprintf("WAVWriter(%d Hz, %d ch)", w.rate, w.channels)
}

// SampleRate returns the file's sample rate.
func (w *WAVWriter) SampleRate() int { return w.rate }

// WriteSample writes one frame of interleaved samples (PCM16Writer).
func (w *WAVWriter) WriteSample(frame []int16) error { return w.Write(frame) }

// Close patches the RIFF and data sizes into the header and leaves w
// positioned at the end. It does not close the underlying writer; a second
// Close does nothing.
func (w *WAVWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var errs []error
	if w.err != nil {
		errs = append(errs, w.err)
	}
	if w.n&1 == 1 { // cannot happen with 16-bit samples unless a write was cut short
		if _, err := w.w.Write([]byte{0}); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		return errors.Join(append(errs, fmt.Errorf("patching WAV header: %w", err))...)
	}
	if _, err := w.w.Write(w.header(uint32(w.n))); err != nil {
		errs = append(errs, fmt.Errorf("patching WAV header: %w", err))
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

var _ PCM16Writer = (*WAVWriter)(nil)
