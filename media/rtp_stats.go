package media

import (
	"fmt"
	"time"
)

// HistogramBuckets is the number of 1 ms buckets of an IntervalHistogram;
// one more bucket counts everything longer.
const HistogramBuckets = 200

// IntervalHistogram counts the intervals between consecutive packets in 1 ms
// buckets: bucket i holds intervals in [i ms, i+1 ms), the last bucket
// everything from HistogramBuckets ms on. Adding is O(1).
type IntervalHistogram struct {
	Buckets [HistogramBuckets + 1]uint32
	N       uint64        // intervals counted
	Max     time.Duration // largest interval seen
}

// Add counts one interval.
func (h *IntervalHistogram) Add(d time.Duration) {
	i := int(d / time.Millisecond)
	if i < 0 {
		i = 0
	}
	if i > HistogramBuckets {
		i = HistogramBuckets
	}
	h.Buckets[i]++
	h.N++
	h.Max = max(h.Max, d)
}

// Merge adds the counts of o to h.
func (h *IntervalHistogram) Merge(o *IntervalHistogram) {
	for i, c := range o.Buckets {
		h.Buckets[i] += c
	}
	h.N += o.N
	h.Max = max(h.Max, o.Max)
}

// Percentile returns the upper edge of the bucket holding the p-th
// percentile (0 < p <= 100), or Max when that falls in the overflow bucket.
func (h *IntervalHistogram) Percentile(p float64) time.Duration {
	if h.N == 0 {
		return 0
	}
	want := uint64(p / 100 * float64(h.N))
	if want == 0 {
		want = 1
	}
	var acc uint64
	for i, c := range h.Buckets {
		acc += uint64(c)
		if acc >= want {
			if i == HistogramBuckets {
				return h.Max
			}
			return time.Duration(i+1) * time.Millisecond
		}
	}
	return h.Max
}

// Within returns the fraction of intervals within center±tol, counted by
// whole buckets: Within(20ms, 5ms) counts the buckets 15 ms up to 25 ms
// (exclusive).
func (h *IntervalHistogram) Within(center, tol time.Duration) float64 {
	if h.N == 0 {
		return 0
	}
	lo := max(int((center-tol)/time.Millisecond), 0)
	hi := min(int((center+tol)/time.Millisecond), HistogramBuckets)
	var k uint64
	for i := lo; i < hi; i++ {
		k += uint64(h.Buckets[i])
	}
	return float64(k) / float64(h.N)
}

// String summarises the histogram, e.g. "n=500 p50=20ms p99=21ms p99.9=24ms max=25.1ms 20±5ms=99.8%".
func (h *IntervalHistogram) String() string {
	return fmt.Sprintf("n=%d p50=%v p99=%v p99.9=%v max=%v 20±5ms=%.2f%%",
		h.N, h.Percentile(50), h.Percentile(99), h.Percentile(99.9), h.Max,
		100*h.Within(FrameDuration, 5*time.Millisecond))
}

// Stats are the counters of one RTP session. Byte counts are payload octets
// (RFC 3550 §6.4.1).
type Stats struct {
	PacketsSent     uint64
	BytesSent       uint64
	PacketsReceived uint64 // valid RTP packets of the expected payload types
	BytesReceived   uint64
	// Lost is the cumulative number of packets lost on receive, RFC 3550
	// A.3 (expected from the extended sequence numbers minus received; it
	// can go negative with duplicates), summed over the remote SSRCs.
	Lost int64
	// Jitter is the interarrival jitter estimate of RFC 3550 A.8, over audio
	// packets.
	Jitter time.Duration
	// Garbage counts datagrams that were not RTP v2, were too short, had an
	// unexpected payload type (RTCP sent to the RTP port included) or came
	// from an abandoned SSRC.
	Garbage     uint64
	SSRCChanges uint64 // times the remote stream restarted with a new SSRC
	SendErrors  uint64
	// LateTicks counts pacing ticks that found the sender a frame or more
	// behind; SkippedFrames the frames it jumped over instead of sending
	// (see Session).
	LateTicks     uint64
	SkippedFrames uint64
	Jitterbuffer  JitterStats
	DTMFReceived  uint64 // key presses reported on DTMF()
	MaxSendGap    time.Duration
	MaxRecvGap    time.Duration
	SendIntervals IntervalHistogram // time between consecutive packets sent
	// TickLateness counts, per pacing tick that sent, how long after the
	// start of the first frame it sent it came (0 ms bucket: on time).
	TickLateness  IntervalHistogram
	RecvIntervals IntervalHistogram // time between consecutive packets received
	// SRTPAuthFailures and SRTPReplays count received SRTP packets dropped
	// because their authentication tag did not verify, or because they
	// were replays (RFC 3711 §3.3).
	SRTPAuthFailures, SRTPReplays uint64
}

// RFC 3550 A.1 constants.
const (
	rtpSeqMod   = 1 << 16
	maxDropout  = 3000
	maxMisorder = 100
)

// seqTracker follows the extended highest sequence number of one source
// (RFC 3550 A.1, without probation) to count loss (A.3).
type seqTracker struct {
	init     bool
	maxSeq   uint16
	cycles   uint32
	baseSeq  uint32
	badSeq   uint32
	received uint64
}

func (t *seqTracker) restart(seq uint16) {
	*t = seqTracker{init: true, maxSeq: seq, baseSeq: uint32(seq), badSeq: rtpSeqMod + 1}
}

// update takes one sequence number.
func (t *seqTracker) update(seq uint16) {
	if !t.init {
		t.restart(seq)
		t.received = 1
		return
	}
	udelta := seq - t.maxSeq
	switch {
	case udelta < maxDropout:
		if seq < t.maxSeq {
			t.cycles += rtpSeqMod
		}
		t.maxSeq = seq
	case udelta <= rtpSeqMod-maxMisorder:
		// A very large jump: take it as a restart if the next packet follows it.
		if uint32(seq) != t.badSeq {
			t.badSeq = (uint32(seq) + 1) & (rtpSeqMod - 1)
			return
		}
		t.restart(seq)
	default:
		// duplicate or reordered packet
	}
	t.received++
}

// lost returns expected minus received (A.3).
func (t *seqTracker) lost() int64 {
	if !t.init {
		return 0
	}
	expected := int64(t.cycles) + int64(t.maxSeq) - int64(t.baseSeq) + 1
	return expected - int64(t.received)
}

// jitterEstimator is RFC 3550 A.8, in timestamp units scaled by 16.
type jitterEstimator struct {
	have        bool
	lastTransit int32
	j16         int64
}

// update takes the arrival time in timestamp units and the packet's timestamp.
func (e *jitterEstimator) update(arrival, ts uint32) {
	transit := int32(arrival - ts)
	if !e.have {
		e.have, e.lastTransit = true, transit
		return
	}
	d := int64(transit - e.lastTransit)
	e.lastTransit = transit
	if d < 0 {
		d = -d
	}
	e.j16 += d - ((e.j16 + 8) >> 4)
}

func (e *jitterEstimator) duration(clockRate int) time.Duration {
	return time.Duration(e.j16>>4) * time.Second / time.Duration(clockRate)
}
