package media

import (
	"fmt"
	"strings"
)

// Codec is an audio payload format negotiated in SDP (RFC 3551 static types).
type Codec struct {
	Name        string // encoding name as in SDP rtpmap, e.g. "PCMU"
	PayloadType uint8
	ClockRate   int
	// Encode appends the payload for src to dst.
	Encode func(dst []byte, src []int16) []byte
	// Decode appends the PCM decoded from payload to dst.
	Decode func(dst []int16, payload []byte) []int16
}

// String returns the codec's SDP name and rate, e.g. "PCMU/8000".
func (c Codec) String() string { return fmt.Sprintf("%s/%d", c.Name, c.ClockRate) }

// The codecs the product speaks (RFC 3551 §4.5.14).
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000, Encode: EncodeULaw, Decode: DecodeULaw}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000, Encode: EncodeALaw, Decode: DecodeALaw}
)

// TelephoneEvent is the RFC 4733 payload format name.
const TelephoneEvent = "telephone-event"

// CodecByName finds a supported codec by SDP encoding name (case-insensitive).
func CodecByName(name string) (Codec, error) {
	switch strings.ToUpper(name) {
	case "PCMU":
		return PCMU, nil
	case "PCMA":
		return PCMA, nil
	}
	return Codec{}, fmt.Errorf("%w: %q", ErrUnsupportedCodec, name)
}
