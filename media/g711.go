package media

// G.711 (ITU-T G.711, 11/88) μ-law and A-law companding. Encoding and decoding
// are table lookups: 64 KiB tables built once at init, so the per-frame cost
// is a load per sample.

var (
	ulawEncTable [65536]byte
	alawEncTable [65536]byte
	ulawDecTable [256]int16
	alawDecTable [256]int16
)

func init() {
	for i := range 256 {
		ulawDecTable[i] = ulawDecode(byte(i))
		alawDecTable[i] = alawDecode(byte(i))
	}
	for i := range 65536 {
		s := int16(uint16(i))
		ulawEncTable[i] = ulawEncode(s)
		alawEncTable[i] = alawEncode(s)
	}
}

const (
	ulawBias = 0x84 // 132, added before the segment search (G.711 μ-law)
	ulawClip = 32635
)

// ulawEncode is the reference μ-law encoder (Sun/CCITT g711.c algorithm).
func ulawEncode(s int16) byte {
	v := int(s)
	sign := 0
	if v < 0 {
		v = -v
		sign = 0x80
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

func ulawDecode(u byte) int16 {
	u = ^u
	sign := u & 0x80
	exp := int(u>>4) & 0x07
	mant := int(u & 0x0F)
	v := ((mant << 3) + ulawBias) << exp
	v -= ulawBias
	if sign != 0 {
		return int16(-v)
	}
	return int16(v)
}

// alawEncode is the reference A-law encoder; even bits are inverted (0x55).
func alawEncode(s int16) byte {
	v := int(s)
	sign := 0x80
	if v < 0 {
		v = -v - 1
		sign = 0
	}
	if v > 32767 {
		v = 32767
	}
	var b int
	if v < 256 {
		b = v >> 4
	} else {
		exp := 1
		for t := v >> 8; t > 1; t >>= 1 {
			exp++
		}
		b = exp<<4 | (v>>(exp+3))&0x0F
	}
	return byte(sign|b) ^ 0x55
}

func alawDecode(a byte) int16 {
	a ^= 0x55
	exp := int(a>>4) & 0x07
	mant := int(a & 0x0F)
	var v int
	if exp == 0 {
		v = mant<<4 + 8
	} else {
		v = (mant<<4 + 0x108) << (exp - 1)
	}
	if a&0x80 == 0 {
		return int16(-v)
	}
	return int16(v)
}

// LinearToULaw encodes one sample as μ-law.
func LinearToULaw(s int16) byte { return ulawEncTable[uint16(s)] }

// ULawToLinear decodes one μ-law byte.
func ULawToLinear(u byte) int16 { return ulawDecTable[u] }

// LinearToALaw encodes one sample as A-law.
func LinearToALaw(s int16) byte { return alawEncTable[uint16(s)] }

// ALawToLinear decodes one A-law byte.
func ALawToLinear(a byte) int16 { return alawDecTable[a] }

// EncodeULaw appends the μ-law encoding of src to dst.
func EncodeULaw(dst []byte, src []int16) []byte {
	for _, s := range src {
		dst = append(dst, ulawEncTable[uint16(s)])
	}
	return dst
}

// DecodeULaw appends the linear decoding of μ-law src to dst.
func DecodeULaw(dst []int16, src []byte) []int16 {
	for _, b := range src {
		dst = append(dst, ulawDecTable[b])
	}
	return dst
}

// EncodeALaw appends the A-law encoding of src to dst.
func EncodeALaw(dst []byte, src []int16) []byte {
	for _, s := range src {
		dst = append(dst, alawEncTable[uint16(s)])
	}
	return dst
}

// DecodeALaw appends the linear decoding of A-law src to dst.
func DecodeALaw(dst []int16, src []byte) []int16 {
	for _, b := range src {
		dst = append(dst, alawDecTable[b])
	}
	return dst
}
