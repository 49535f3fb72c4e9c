package prompts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hajimehoshi/go-mp3"

	"github.com/supportline/ivr/media"
)

// decoderDelay is the delay of the MP3 synthesis filterbank in samples, which
// the LAME tag's encoder delay does not include (LAME technical FAQ, "gapless
// playback"; hajimehoshi/go-mp3 has it too: measured against lame --decode).
const decoderDelay = 529

// silenceFloor is the level (about -60 dBFS) under which decoded samples at
// the ends of a file without a LAME tag count as codec padding.
const silenceFloor = 32

// errNoAudio is wrapped in ErrBadPrompt for a file that decodes to nothing.
var errNoAudio = errors.New("no audio")

// decodeMP3 decodes a whole MP3 file to mono PCM at the line rate
// (media.SampleRate). Encoder delay and padding are cut using the LAME tag,
// so the result is the encoder's input sample for sample; without a tag,
// near-silent samples at both ends are cut. A loop clip is resampled as a
// circular signal, so its last sample flows into its first.
func decodeMP3(data []byte, loop bool) (pcm []int16, err error) {
	defer func() {
		// go-mp3 indexes tables with values read from the stream; turn a
		// failure on a corrupt file into an error rather than a crash.
		if r := recover(); r != nil {
			pcm, err = nil, fmt.Errorf("mp3 decoder failed: %v", r)
		}
	}()
	d, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(d)
	if err != nil {
		return nil, err
	}
	stereo := make([]int16, len(raw)/2)
	for i := range stereo {
		stereo[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	mono := media.DownmixStereo(stereo)
	if g, ok := parseGapless(data); ok {
		mono = g.cut(mono)
	} else {
		mono = trimSilence(mono)
	}
	if len(mono) == 0 {
		return nil, errNoAudio
	}
	rate := d.SampleRate()
	if loop {
		return resampleCircular(mono, rate), nil
	}
	return media.Resample(mono, rate, media.SampleRate), nil
}

// resampleCircular resamples one period of a periodic signal: the filter
// sees the end before the start and the start after the end instead of
// silence, so a loop has no seam.
func resampleCircular(x []int16, rate int) []int16 {
	// rate/25 input samples are exactly 320 output samples (40 ms) at every
	// MPEG rate, 11025 Hz included; it spans the resampler's filter.
	p := rate / 25
	if len(x) < p || rate%25 != 0 {
		return media.Resample(x, rate, media.SampleRate)
	}
	ext := make([]int16, 0, len(x)+2*p)
	ext = append(ext, x[len(x)-p:]...)
	ext = append(ext, x...)
	ext = append(ext, x[:p]...)
	out := media.Resample(ext, rate, media.SampleRate)
	m0 := media.SampleRate / 25
	n := (len(x)*media.SampleRate + rate - 1) / rate
	return out[m0 : m0+n]
}

// gapless is what the LAME tag says about a file's framing.
type gapless struct {
	frameSamples   int // samples per frame: 1152 (MPEG-1) or 576 (MPEG-2, 2.5)
	frames         int // audio frames, the tag frame not counted
	delay, padding int
}

// cut returns the encoder's input from the decoder's output: go-mp3 decodes
// the tag frame as one frame of silence, then the encoder and decoder delays
// precede the audio and the padding follows it.
func (g gapless) cut(x []int16) []int16 {
	start := g.frameSamples + g.delay + decoderDelay
	n := g.frames*g.frameSamples - g.delay - g.padding
	if start > len(x) || n <= 0 {
		return nil
	}
	return x[start:min(len(x), start+n)]
}

// parseGapless reads the Xing/Info header and LAME extension of the first
// frame (Gabriel Bouvigne, "Mp3 info tag rev 1 specifications"). It returns
// false when the file has no LAME tag with a frame count.
func parseGapless(b []byte) (gapless, bool) {
	b = skipID3v2(b)
	if len(b) < 4 || b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return gapless{}, false
	}
	version := b[1] >> 3 & 3 // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
	mono := b[3]>>6 == 3
	side := 17 // side information: MPEG-1 mono or MPEG-2 stereo
	switch {
	case version == 3 && !mono:
		side = 32
	case version != 3 && mono:
		side = 9
	}
	g := gapless{frameSamples: 576}
	if version == 3 {
		g.frameSamples = 1152
	}
	off := 4 + side
	if b[1]&1 == 0 { // protected: a CRC follows the header
		off += 2
	}
	if len(b) < off+8 {
		return gapless{}, false
	}
	if id := string(b[off : off+4]); id != "Xing" && id != "Info" {
		return gapless{}, false
	}
	flags := binary.BigEndian.Uint32(b[off+4:])
	if flags&1 == 0 {
		return gapless{}, false
	}
	p := off + 8
	g.frames = int(binary.BigEndian.Uint32(b[p:]))
	p += 4
	if flags&2 != 0 {
		p += 4 // byte count
	}
	if flags&4 != 0 {
		p += 100 // seek table
	}
	if flags&8 != 0 {
		p += 4 // quality
	}
	// LAME extension: 9-byte encoder string, then delay and padding as two
	// 12-bit fields at offset 21.
	if len(b) < p+24 || string(b[p:p+4]) != "LAME" {
		return gapless{}, false
	}
	x := b[p+21:]
	g.delay = int(x[0])<<4 | int(x[1])>>4
	g.padding = int(x[1]&0x0f)<<8 | int(x[2])
	return g, true
}

// skipID3v2 returns b without a leading ID3v2 tag.
func skipID3v2(b []byte) []byte {
	if len(b) < 10 || string(b[:3]) != "ID3" {
		return b
	}
	// Tag size: four 7-bit bytes, not counting the 10-byte header.
	n := int(b[6]&0x7f)<<21 | int(b[7]&0x7f)<<14 | int(b[8]&0x7f)<<7 | int(b[9]&0x7f)
	if b[5]&0x10 != 0 {
		n += 10 // footer
	}
	if 10+n > len(b) {
		return nil
	}
	return b[10+n:]
}

// trimSilence cuts samples below silenceFloor from both ends of x.
func trimSilence(x []int16) []int16 {
	loud := func(v int16) bool { return v > silenceFloor || v < -silenceFloor }
	i, j := 0, len(x)
	for i < j && !loud(x[i]) {
		i++
	}
	for j > i && !loud(x[j-1]) {
		j--
	}
	return x[i:j]
}
