package media

import (
	"encoding/binary"
	"fmt"
	"time"
)

// RFC4733Event is the payload of one telephone-event RTP packet
// (RFC 4733 §2.3):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type RFC4733Event struct {
	Event    uint8  // 0-9 digits, 10 '*', 11 '#', 12-15 'A'-'D', 16 flash (RFC 4733 §3.2)
	End      bool   // E bit: the last packet of the event (or segment)
	Volume   uint8  // power level, in -dBm0 (0-63); 10 is usual for DTMF
	Duration uint16 // timestamp units since the event's RTP timestamp
}

// RFC4733PayloadSize is the size of a telephone-event payload.
const RFC4733PayloadSize = 4

// AppendTo appends the 4-byte payload to b.
func (e RFC4733Event) AppendTo(b []byte) []byte {
	b1 := e.Volume & 0x3f
	if e.End {
		b1 |= 0x80
	}
	return binary.BigEndian.AppendUint16(append(b, e.Event, b1), e.Duration)
}

// Unmarshal parses a telephone-event payload. Bytes beyond the first four
// (redundant events, RFC 4733 §2.4, are not supported) are ignored.
func (e *RFC4733Event) Unmarshal(b []byte) error {
	if len(b) < RFC4733PayloadSize {
		return fmt.Errorf("%w: telephone-event payload of %d bytes", ErrShortPayload, len(b))
	}
	e.Event = b[0]
	e.End = b[1]&0x80 != 0
	e.Volume = b[1] & 0x3f
	e.Duration = binary.BigEndian.Uint16(b[2:4])
	return nil
}

// dtmfEventCodes maps event codes 0-15 to keys (RFC 4733 §3.2).
const dtmfEventCodes = "0123456789*#ABCD"

// eventDigit returns the key for a DTMF event code.
func eventDigit(code uint8) (byte, bool) {
	if int(code) >= len(dtmfEventCodes) {
		return 0, false
	}
	return dtmfEventCodes[code], true
}

// digitEvent returns the event code for a key (case-insensitive for A-D).
func digitEvent(d byte) (uint8, bool) {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	for i := range len(dtmfEventCodes) {
		if dtmfEventCodes[i] == d {
			return uint8(i), true
		}
	}
	return 0, false
}

// eventPress is one key press found in a telephone-event stream.
type eventPress struct {
	Digit    byte
	At       time.Time     // arrival of the first packet seen of the event
	Duration time.Duration // duration carried by that packet (final only if it was an end packet)
}

// A long event is sent in segments of at most 0xFFFF timestamp units, each
// with a new timestamp (RFC 4733 §2.5.1.3). A packet of the same event code
// whose timestamp is about 0xFFFF after the current event's is a continuation.
const (
	segmentSpan  = 0xFFFF
	segmentSlack = 8 * FrameSamples
)

// eventReceiver turns received telephone-event packets into key presses.
//
// Events are keyed by RTP timestamp (RFC 4733 §2.5.2.1): every packet of one
// event carries the event's start timestamp, whatever its marker bit. A press
// is reported on the first packet seen with a new timestamp, whichever packet
// that is, so the report has the lowest latency and a lost start (marker
// packet) or a lost end (all three E packets) can neither hide nor double a
// press; no timeout is needed. Duplicates and late packets of earlier events
// are recognised by the timestamps of recent events.
type eventReceiver struct {
	clockRate int
	have      bool
	curTS     uint32
	curCode   uint8
	recent    [8]uint32 // timestamps of recent events, for late duplicates
	nrecent   int
}

func newEventReceiver(clockRate int) *eventReceiver {
	if clockRate <= 0 {
		clockRate = SampleRate
	}
	return &eventReceiver{clockRate: clockRate}
}

// reset forgets all events (a new RTP stream started).
func (r *eventReceiver) reset() {
	*r = eventReceiver{clockRate: r.clockRate}
}

func (r *eventReceiver) seen(ts uint32) bool {
	for i := range min(r.nrecent, len(r.recent)) {
		if r.recent[i] == ts {
			return true
		}
	}
	return false
}

func (r *eventReceiver) remember(ts uint32) {
	r.recent[r.nrecent%len(r.recent)] = ts
	r.nrecent++
}

// push takes one telephone-event packet (its RTP timestamp and parsed
// payload) and returns a press when the packet starts a new one.
func (r *eventReceiver) push(ts uint32, ev RFC4733Event, at time.Time) (eventPress, bool) {
	digit, ok := eventDigit(ev.Event)
	if !ok {
		return eventPress{}, false // flash and other events are not key presses
	}
	if r.have && ts == r.curTS || r.seen(ts) {
		return eventPress{}, false
	}
	r.remember(ts)
	if r.have && ev.Event == r.curCode {
		if d := ts - r.curTS; d >= segmentSpan-segmentSlack && d <= segmentSpan+segmentSlack {
			r.curTS = ts // next segment of a long press
			return eventPress{}, false
		}
	}
	if !r.have || int32(ts-r.curTS) > 0 {
		r.have, r.curTS, r.curCode = true, ts, ev.Event
	}
	d := time.Duration(ev.Duration) * time.Second / time.Duration(r.clockRate)
	return eventPress{Digit: digit, At: at, Duration: d}, true
}
