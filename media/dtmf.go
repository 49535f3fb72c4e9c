package media

import "time"

// DTMFSource says which path a key press arrived by.
type DTMFSource uint8

// The two DTMF paths: RFC 4733 telephone-events and tones in the audio.
const (
	DTMFRFC4733 DTMFSource = iota + 1
	DTMFInband
)

// String returns "rfc4733" or "inband".
func (s DTMFSource) String() string {
	switch s {
	case DTMFRFC4733:
		return "rfc4733"
	case DTMFInband:
		return "inband"
	}
	return "unknown"
}

// DTMF is one key press.
type DTMF struct {
	Digit    byte       // '0'-'9', '*', '#', 'A'-'D'
	Source   DTMFSource // the path it arrived by
	At       time.Time  // start of the press as seen by the receiver
	Duration time.Duration
}

// ValidDigit reports whether b is a DTMF digit: '0'-'9', '*', '#' or 'A'-'D'.
func ValidDigit(b byte) bool {
	return b >= '0' && b <= '9' || b == '*' || b == '#' || b >= 'A' && b <= 'D'
}
