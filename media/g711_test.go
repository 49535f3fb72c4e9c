package media

import (
	"math"
	"testing"
)

// Independent transcriptions of the reference coders, checked exhaustively
// against g711.go:
//
//   - ITU-T G.191 Software Tool Library, g711.c (alaw_compress/expand,
//     ulaw_compress/expand): the ITU's own reference for G.711.
//   - Sun Microsystems g711.c (the 16-bit linear2ulaw with BIAS 0x84 and
//     CLIP 32635) as shipped in SoX, pjsip and many others.
//
// A-law in g711.go is bit-exact with G.191. μ-law is bit-exact with Sun's
// linear2ulaw; it differs from G.191's ulaw_compress only in how a negative
// 16-bit input is turned into a magnitude: G.191 takes the one's complement
// (-x-1) where Sun takes -x, so at a negative decision level the two pick
// adjacent codes (G.191 encodes x-1 where Sun encodes x). Both are valid
// G.711 encoders; the decoders agree everywhere.

func g191ALawCompress(x int16) byte {
	var ix int16
	if x < 0 {
		ix = (^x) >> 4
	} else {
		ix = x >> 4
	}
	if ix > 15 {
		iexp := int16(1)
		for ix > 16+15 {
			ix >>= 1
			iexp++
		}
		ix -= 16
		ix += iexp << 4
	}
	if x >= 0 {
		ix |= 0x80
	}
	return byte(ix ^ 0x55)
}

func g191ALawExpand(b byte) int16 {
	ix := int(b^0x55) & 0x7F
	iexp := ix >> 4
	mant := ix & 0x0F
	if iexp > 0 {
		mant += 16
	}
	mant = mant<<4 + 8
	if iexp > 1 {
		mant <<= iexp - 1
	}
	if b > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

func g191ULawCompress(x int16) byte {
	var absno int
	if x < 0 {
		absno = int((^x)>>2) + 33
	} else {
		absno = int(x>>2) + 33
	}
	if absno > 0x1FFF {
		absno = 0x1FFF
	}
	segno := 1
	for i := absno >> 6; i != 0; i >>= 1 {
		segno++
	}
	high := 8 - segno
	low := 0x0F - (absno>>segno)&0x0F
	out := high<<4 | low
	if x >= 0 {
		out |= 0x80
	}
	return byte(out)
}

func g191ULawExpand(b byte) int16 {
	sign := 1
	if b < 0x80 {
		sign = -1
	}
	mant := int(^b)
	exp := (mant >> 4) & 0x07
	seg := exp + 1
	mant &= 0x0F
	step := 4 << seg
	return int16(sign * ((0x80 << exp) + step*mant + step/2 - 4*33))
}

var sunSegEnd = [8]int{0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF}

func sunLinear2ULaw(pcm int) byte {
	mask := 0xFF
	if pcm < 0 {
		pcm = -pcm
		mask = 0x7F
	}
	if pcm > 32635 {
		pcm = 32635
	}
	pcm += 0x84
	seg := 8
	for i, e := range sunSegEnd {
		if pcm <= e {
			seg = i
			break
		}
	}
	if seg >= 8 {
		return byte(0x7F ^ mask)
	}
	return byte((seg<<4 | (pcm>>(seg+3))&0x0F) ^ mask)
}

func TestG711Vectors(t *testing.T) {
	tests := []struct {
		in         int16
		ulaw, alaw byte
	}{
		{0, 0xFF, 0xD5},
		{-1, 0x7F, 0x55},
		{1, 0xFF, 0xD5},
		{32767, 0x80, 0xAA},
		{-32768, 0x00, 0x2A},
		{-32767, 0x00, 0x2A},
		// μ-law decision levels at segment starts (×4 of G.711's 14-bit
		// values 31, 95, 223, 479, 991, 2015, 4063): the code steps from
		// xF0 to xEF etc. A-law segment starts at 256, 512, 1024, ….
		{3, 0xFF, 0xD5},
		{4, 0xFE, 0xD5},
		{123, 0xF0, 0xD2},
		{124, 0xEF, 0xD2},
		{255, 0xE7, 0xDA},
		{256, 0xE7, 0xC5},
		{379, 0xE0, 0xC2},
		{380, 0xDF, 0xC2},
		{511, 0xDB, 0xCA},
		{512, 0xDB, 0xF5},
		{891, 0xD0, 0xFE},
		{892, 0xCF, 0xFE},
		{1023, 0xCD, 0xFA},
		{1024, 0xCD, 0xE5},
		{1915, 0xC0, 0xE8},
		{1916, 0xBF, 0xE8},
		{2048, 0xBE, 0x95},
		{3963, 0xB0, 0x9B},
		{3964, 0xAF, 0x9B},
		{4096, 0xAF, 0x85},
		{8059, 0xA0, 0x8A},
		{8060, 0x9F, 0x8A},
		{8192, 0x9F, 0xB5},
		{16251, 0x90, 0xBA},
		{16252, 0x8F, 0xBA},
		{16384, 0x8F, 0xA5},
		{32635, 0x80, 0xAA},
		{-124, 0x6F, 0x52},
		{-256, 0x67, 0x5A},
		{-257, 0x67, 0x45},
		{-16384, 0x0F, 0x3A},
		{-16385, 0x0F, 0x25},
	}
	for _, tt := range tests {
		if got := LinearToULaw(tt.in); got != tt.ulaw {
			t.Errorf("LinearToULaw(%d) = %#02x, want %#02x", tt.in, got, tt.ulaw)
		}
		if got := LinearToALaw(tt.in); got != tt.alaw {
			t.Errorf("LinearToALaw(%d) = %#02x, want %#02x", tt.in, got, tt.alaw)
		}
	}
}

func TestG711DecodeVectors(t *testing.T) {
	tests := []struct {
		name string
		dec  func(byte) int16
		code byte
		want int16
	}{
		{"ulaw", ULawToLinear, 0xFF, 0},
		{"ulaw", ULawToLinear, 0x7F, 0}, // "negative zero"
		{"ulaw", ULawToLinear, 0xFE, 8},
		{"ulaw", ULawToLinear, 0xF0, 120},
		{"ulaw", ULawToLinear, 0xEF, 132},
		{"ulaw", ULawToLinear, 0xD5, 716},
		{"ulaw", ULawToLinear, 0xAA, 5372},
		{"ulaw", ULawToLinear, 0x80, 32124},
		{"ulaw", ULawToLinear, 0x00, -32124},
		{"ulaw", ULawToLinear, 0x2A, -5372},
		{"alaw", ALawToLinear, 0xD5, 8},
		{"alaw", ALawToLinear, 0x55, -8},
		{"alaw", ALawToLinear, 0xD4, 24},
		{"alaw", ALawToLinear, 0xC5, 264},
		{"alaw", ALawToLinear, 0xFF, 848},
		{"alaw", ALawToLinear, 0x80, 5504},
		{"alaw", ALawToLinear, 0x00, -5504},
		{"alaw", ALawToLinear, 0xAA, 32256},
		{"alaw", ALawToLinear, 0x2A, -32256},
	}
	for _, tt := range tests {
		if got := tt.dec(tt.code); got != tt.want {
			t.Errorf("%s decode(%#02x) = %d, want %d", tt.name, tt.code, got, tt.want)
		}
	}
}

func TestG711ReferenceExhaustive(t *testing.T) {
	for i := range 256 {
		b := byte(i)
		if got, want := ALawToLinear(b), g191ALawExpand(b); got != want {
			t.Fatalf("ALawToLinear(%#02x) = %d, G.191 %d", b, got, want)
		}
		if got, want := ULawToLinear(b), g191ULawExpand(b); got != want {
			t.Fatalf("ULawToLinear(%#02x) = %d, G.191 %d", b, got, want)
		}
	}
	for i := math.MinInt16; i <= math.MaxInt16; i++ {
		x := int16(i)
		if got, want := LinearToALaw(x), g191ALawCompress(x); got != want {
			t.Fatalf("LinearToALaw(%d) = %#02x, G.191 %#02x", x, got, want)
		}
		if got, want := LinearToULaw(x), sunLinear2ULaw(i); got != want {
			t.Fatalf("LinearToULaw(%d) = %#02x, Sun %#02x", x, got, want)
		}
		ref := x
		if x < 0 && x > math.MinInt16 {
			ref = x - 1 // G.191 one's-complement magnitude (see top of file)
		}
		if got, want := LinearToULaw(x), g191ULawCompress(ref); got != want {
			t.Fatalf("LinearToULaw(%d) = %#02x, G.191(%d) %#02x", x, got, ref, want)
		}
	}
}

func TestG711Properties(t *testing.T) {
	codecs := []struct {
		name string
		enc  func(int16) byte
		dec  func(byte) int16
	}{
		{"ulaw", LinearToULaw, ULawToLinear},
		{"alaw", LinearToALaw, ALawToLinear},
	}
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			// Every code is a fixed point of decode∘encode.
			for i := range 256 {
				v := c.dec(byte(i))
				if got := c.dec(c.enc(v)); got != v {
					t.Errorf("decode(encode(decode(%#02x)=%d)) = %d", i, v, got)
				}
			}
			// Quantisation is monotonic and each error is within half a step.
			prev := c.dec(c.enc(math.MinInt16))
			for i := math.MinInt16 + 1; i <= math.MaxInt16; i++ {
				q := c.dec(c.enc(int16(i)))
				if q < prev {
					t.Fatalf("not monotonic at %d: %d after %d", i, q, prev)
				}
				prev = q
				if e, lim := math.Abs(float64(i)-float64(q)), halfStep(c.name, q); e > lim && math.Abs(float64(i)) < 32124 {
					t.Fatalf("%d quantised to %d: error %.0f > %.0f", i, q, e, lim)
				}
			}
		})
	}
}

// halfStep is half the quantisation step of the segment holding q, plus one
// for the sign-magnitude offset at negative decision levels.
func halfStep(codec string, q int16) float64 {
	a := math.Abs(float64(q))
	step := 8.0
	if codec == "ulaw" {
		for lim := 124.0; a > lim && step < 1024; lim = 2*lim + 132 {
			step *= 2
		}
	} else {
		step = 16
		for lim := 511.0; a > lim; lim = 2*lim + 1 {
			step *= 2
		}
	}
	return step/2 + 1
}

func TestG711SliceCoders(t *testing.T) {
	in := []int16{0, 1000, -1000, 32767, -32768}
	tests := []struct {
		name string
		enc  func([]byte, []int16) []byte
		dec  func([]int16, []byte) []int16
		one  func(int16) byte
	}{
		{"ulaw", EncodeULaw, DecodeULaw, LinearToULaw},
		{"alaw", EncodeALaw, DecodeALaw, LinearToALaw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.enc([]byte{0x42}, in)
			if len(b) != 1+len(in) || b[0] != 0x42 {
				t.Fatalf("Encode did not append: %x", b)
			}
			for i, s := range in {
				if b[1+i] != tt.one(s) {
					t.Errorf("sample %d: %#02x, want %#02x", i, b[1+i], tt.one(s))
				}
			}
			out := tt.dec([]int16{7}, b[1:])
			if len(out) != 1+len(in) || out[0] != 7 {
				t.Fatalf("Decode did not append: %v", out)
			}
		})
	}
}
