package media

import "time"

// FrameKind says what JitterBuffer.Pop produced.
type FrameKind uint8

// Frame kinds.
const (
	FrameNone      FrameKind = iota // nothing to play yet (before the first packet, or filling up to the target delay after it); dst is silence
	FramePlayed                     // a received packet, decoded
	FrameConcealed                  // a lost or late packet, concealed (attenuated repeat or silence)
	FrameEvent                      // the slot of a telephone-event packet, played as silence
)

// String returns the kind's name.
func (k FrameKind) String() string {
	switch k {
	case FrameNone:
		return "none"
	case FramePlayed:
		return "played"
	case FrameConcealed:
		return "concealed"
	case FrameEvent:
		return "event"
	}
	return "unknown"
}

// JitterStats are the counters of a JitterBuffer.
type JitterStats struct {
	Played    uint64 // frames decoded from received packets
	Concealed uint64 // frames made up for missing packets (loss or underrun)
	Late      uint64 // packets that arrived after their playout time, dropped
	Duplicate uint64 // packets received twice, dropped
	Dropped   uint64 // packets dropped to bring the delay back to the target
	Resyncs   uint64 // jumps in sequence numbers that restarted the buffer
}

// Jitter buffer sizes.
const (
	// DefaultJitterDelay is the playout delay a JitterBuffer aims for.
	DefaultJitterDelay = 40 * time.Millisecond
	jbSlots            = 32           // ring size, a power of two (640 ms)
	jbMaxPayload       = FrameSamples // G.711: one byte per sample
	jbShrinkWindow     = 50           // pops (1 s) over which excess delay is measured
	jbMaxConceal       = 3            // concealed frames (attenuated repeats) before silence
)

type jbSlot struct {
	used  bool
	event bool
	seq   uint16
	n     int
	data  [jbMaxPayload]byte
}

type jbState uint8

const (
	jbEmpty     jbState = iota // nothing received since the last reset
	jbBuffering                // filling up to the target delay
	jbPlaying
)

// JitterBuffer reorders the 20 ms G.711 packets of one RTP stream by
// sequence number and plays them out one frame per Pop, which the caller
// drives from its own 20 ms clock (the Session's sending ticker).
//
// Policy, kept simple because an IVR wants low delay more than perfect audio:
//   - Playout starts once the buffer spans the target delay (default 40 ms,
//     two frames). When it runs dry (underrun) it conceals and waits again
//     for the target, so delay grows by a frame only when the network
//     needs it.
//   - A missing packet with later ones present is lost: its frame is
//     concealed by repeating the last good frame at half the level, then a
//     quarter, then an eighth, then silence.
//   - Packets older than the playout point are late and dropped; repeats are
//     duplicates and dropped.
//   - The delay is brought back down: when the buffer held more than the
//     target for a whole second, or at once when it holds more than the
//     target plus 60 ms (a burst after a pause), the oldest frames are dropped.
//   - A jump in sequence numbers beyond the ring (640 ms) or far backwards
//     restarts the buffer at the new packet; Reset does so for a new SSRC.
//
// Packets must be 20 ms of G.711 (160 bytes); a longer payload is cut to
// 160 samples and a shorter one padded with silence. A JitterBuffer is not
// safe for concurrent use.
type JitterBuffer struct {
	decode     func(dst []int16, payload []byte) []int16
	target     int // frames
	maxDepth   int // frames
	state      jbState
	primed     bool   // played since the last reset
	next, high uint16 // next sequence number to play; highest received
	count      int    // packets held
	slots      [jbSlots]jbSlot

	window, minDepth int // excess-delay measurement
	last             [FrameSamples]int16
	haveLast         bool
	concealRun       int
	stats            JitterStats
}

// NewJitterBuffer returns a buffer for codec with the given target delay
// (DefaultJitterDelay when zero), rounded up to whole 20 ms frames.
func NewJitterBuffer(codec Codec, delay time.Duration) *JitterBuffer {
	if delay <= 0 {
		delay = DefaultJitterDelay
	}
	target := int((delay + FrameDuration - 1) / FrameDuration)
	target = min(max(target, 1), jbSlots/2)
	return &JitterBuffer{
		decode:   codec.Decode,
		target:   target,
		maxDepth: min(target+3, jbSlots-1),
	}
}

// Reset empties the buffer, e.g. when the remote SSRC changes. Counters are
// kept.
func (j *JitterBuffer) Reset() {
	for i := range j.slots {
		j.slots[i].used = false
	}
	j.state, j.primed, j.count, j.window, j.minDepth = jbEmpty, false, 0, 0, 0
	j.haveLast, j.concealRun = false, 0
}

// Stats returns the buffer's counters.
func (j *JitterBuffer) Stats() JitterStats { return j.stats }

// Depth returns the number of frames from the playout point to the newest
// packet held (holes included), i.e. the current delay in frames.
func (j *JitterBuffer) Depth() int {
	if j.count == 0 {
		return 0
	}
	return int(int16(j.high-j.next)) + 1
}

// Push stores the payload of an audio packet. It reports whether the packet
// was kept (false: late or duplicate).
func (j *JitterBuffer) Push(seq uint16, payload []byte) bool {
	return j.push(seq, payload, false)
}

// PushEvent takes the place of a telephone-event packet of the same stream,
// so its sequence number is not taken for loss; it plays as silence.
func (j *JitterBuffer) PushEvent(seq uint16) bool {
	return j.push(seq, nil, true)
}

func (j *JitterBuffer) push(seq uint16, payload []byte, event bool) bool {
	if j.state == jbEmpty {
		j.restart(seq)
	}
	d := int16(seq - j.next)
	switch {
	case d < -maxMisorder || int(d) >= jbSlots:
		j.stats.Resyncs++
		j.Reset()
		j.restart(seq)
	case d < 0:
		j.stats.Late++
		return false
	}
	s := &j.slots[seq%jbSlots]
	if s.used {
		j.stats.Duplicate++ // the ring holds only [next, next+jbSlots): same seq
		return false
	}
	s.used, s.event, s.seq = true, event, seq
	s.n = copy(s.data[:], payload)
	j.count++
	if int16(seq-j.high) > 0 || j.count == 1 {
		j.high = seq
	}
	return true
}

func (j *JitterBuffer) restart(seq uint16) {
	j.state, j.next, j.high = jbBuffering, seq, seq
}

// Pop fills dst (FrameSamples long) with the next 20 ms of audio.
func (j *JitterBuffer) Pop(dst []int16) FrameKind {
	dst = dst[:FrameSamples]
	switch j.state {
	case jbEmpty:
		clear(dst)
		return FrameNone
	case jbBuffering:
		if j.Depth() < j.target {
			if !j.primed {
				clear(dst)
				return FrameNone
			}
			return j.conceal(dst)
		}
		j.state, j.primed = jbPlaying, true
	}
	j.trim()
	s := &j.slots[j.next%jbSlots]
	if !s.used {
		if j.count == 0 {
			j.state = jbBuffering // underrun: hold the playout point and refill
			return j.conceal(dst)
		}
		j.next++ // lost
		return j.conceal(dst)
	}
	s.used = false
	j.count--
	j.next++
	if s.event {
		clear(dst)
		j.haveLast, j.concealRun = false, 0
		return FrameEvent
	}
	out := j.decode(dst[:0], s.data[:s.n])
	clear(dst[len(out):])
	copy(j.last[:], dst)
	j.haveLast, j.concealRun = true, 0
	j.stats.Played++
	return FramePlayed
}

// trim drops the oldest frames when the delay is above the limit, or has
// been above the target for a whole window.
func (j *JitterBuffer) trim() {
	depth := j.Depth()
	if j.window == 0 || depth < j.minDepth {
		j.minDepth = depth
	}
	j.window++
	drop := 0
	switch {
	case depth > j.maxDepth:
		drop = depth - j.target
	case j.window >= jbShrinkWindow:
		if j.minDepth > j.target {
			drop = 1
		}
		j.window = 0
	}
	if drop > 0 {
		j.window = 0
	}
	for ; drop > 0; drop-- {
		s := &j.slots[j.next%jbSlots]
		if s.used {
			s.used = false
			j.count--
			j.stats.Dropped++
		}
		j.next++
	}
}

// conceal fills dst for a missing frame: the last good frame attenuated by
// 6 dB more each time, silence after jbMaxConceal frames.
func (j *JitterBuffer) conceal(dst []int16) FrameKind {
	j.stats.Concealed++
	j.concealRun++
	if !j.haveLast || j.concealRun > jbMaxConceal {
		clear(dst)
		return FrameConcealed
	}
	shift := uint(j.concealRun)
	for i, v := range j.last {
		dst[i] = v >> shift
	}
	return FrameConcealed
}
