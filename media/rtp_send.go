package media

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"
)

// rtpHeaderSize is the fixed RTP header without CSRCs (RFC 3550 §5.1).
const rtpHeaderSize = 12

// Sender pacing.
const (
	// maxCatchUp is how many missed frames a late tick still sends
	// back-to-back; beyond it they are skipped (see Session).
	maxCatchUp = 2
	// dtmfEndRepeats is how often the final packet of an event is sent
	// (RFC 4733 §2.5.1.4).
	dtmfEndRepeats = 3
	// dtmfVolume is the power level of sent events, -10 dBm0.
	dtmfVolume = 10
	// Defaults of SendDTMF.
	defaultDTMFDuration = 100 * time.Millisecond
	defaultDTMFGap      = 100 * time.Millisecond
)

// putRTPHeader writes a fixed RTP header (version 2, no padding, extension or
// CSRC) into b[:12].
func putRTPHeader(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	b[0] = 2 << 6
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}

// sendStats are the sender's counters, guarded by Session.sendMu.
type sendStats struct {
	packets, bytes, errors uint64
	lateTicks, skipped     uint64
	last                   time.Time
	intervals              IntervalHistogram
	lateness               IntervalHistogram
}

func (st *sendStats) fill(out *Stats) {
	out.PacketsSent, out.BytesSent, out.SendErrors = st.packets, st.bytes, st.errors
	out.LateTicks, out.SkippedFrames = st.lateTicks, st.skipped
	out.SendIntervals = st.intervals
	out.TickLateness = st.lateness
	out.MaxSendGap = st.intervals.Max
}

// dtmfJob is one SendDTMF call, played by the pacing loop.
type dtmfJob struct {
	codes     []uint8
	durFrames int
	gapFrames int
	done      chan error // buffered; receives the result once
	cancel    chan struct{}

	// progress, owned by the pacing loop
	i      int    // digit playing
	k      int    // frames of the current event sent; 0 = not started
	ended  bool   // the current event's end packet went out
	after  int    // frames since the end packet
	ts     uint32 // the current event's timestamp
	endDur uint16
}

func (j *dtmfJob) cancelled() bool {
	select {
	case <-j.cancel:
		return true
	default:
		return false
	}
}

// SendDTMF sends digits (0-9, *, #, A-D) as RFC 4733 events in the outgoing
// stream, each lasting dur (default 100 ms) with gap between events (default
// 100 ms; at least the 40 ms taken by repeating the end packet). Audio is
// replaced for the duration of each event. It returns once the last end
// packet has been sent; called before Run starts, it waits for Run. When ctx
// ends first, the event under way is ended properly, the remaining digits
// are dropped and ctx's error is returned.
func (s *Session) SendDTMF(ctx context.Context, digits string, dur, gap time.Duration) error {
	if s.cfg.EventPT == 0 {
		return fmt.Errorf("%w: no telephone-event payload type negotiated", ErrSessionConfig)
	}
	job := &dtmfJob{done: make(chan error, 1), cancel: make(chan struct{})}
	for i := range len(digits) {
		code, ok := digitEvent(digits[i])
		if !ok {
			return fmt.Errorf("%w: %q in %q", ErrBadDigit, digits[i], digits)
		}
		job.codes = append(job.codes, code)
	}
	if len(job.codes) == 0 {
		return nil
	}
	if dur <= 0 {
		dur = defaultDTMFDuration
	}
	if gap <= 0 {
		gap = defaultDTMFGap
	}
	// Events longer than one 0xFFFF segment (8 s) are not segmented.
	job.durFrames = min(max(1, int((dur+FrameDuration-1)/FrameDuration)), 0xFFFF/FrameSamples)
	job.gapFrames = max(dtmfEndRepeats, int((gap+FrameDuration-1)/FrameDuration)+1)
	select {
	case s.dtmfReq <- job:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrSessionClosed
	}
	select {
	case err := <-job.done:
		return err
	case <-ctx.Done():
		close(job.cancel)
		return ctx.Err()
	}
}

// sender is the state of the pacing loop: the one outgoing RTP stream.
type sender struct {
	s           *Session
	ssrc        uint32
	seq         uint16
	ts0         uint32
	start       time.Time
	frames      int64 // media frames elapsed (index of the next frame)
	needMarker  bool
	sinkStarted bool
	job         *dtmfJob
	silence     []byte
	pcm         [FrameSamples]int16
	rxpcm       [FrameSamples]int16
	pkt         [rtpHeaderSize + 2*FrameSamples]byte
}

func newSender(s *Session) *sender {
	return &sender{
		s:          s,
		ssrc:       rand.Uint32(),
		seq:        uint16(rand.Uint32()),
		ts0:        rand.Uint32(),
		needMarker: true,
		silence:    s.cfg.Codec.Encode(nil, make([]int16, FrameSamples)),
	}
}

// sendLoop is the pacing loop: one tick every 20 ms sends the due frames,
// plays received frames out and checks for inactivity.
//
// The media clock starts before the ticker, so every tick comes at or after
// the start of the frame it is for, never before it. Started the other way
// round, the frame boundaries trail the ticks by the few microseconds
// between the two calls, and a tick delivered within them (a prompt wake-up
// often is) finds no frame due: that tick sends nothing and the next one
// sends two, a 40 ms gap and a burst, again and again for the whole call.
func (s *Session) sendLoop(ctx context.Context) error {
	sd := newSender(s)
	sd.start = time.Now()
	ticker := time.NewTicker(FrameDuration)
	defer ticker.Stop()
	s.lastRecv.Store(int64(sd.start.Sub(s.epoch)))
	sd.tick(sd.start)
	defer sd.abortJob()
	for {
		req := s.dtmfReq
		if sd.job != nil {
			req = nil // one job at a time
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.closing:
			return nil
		case job := <-req:
			sd.startJob(job)
		case <-ticker.C:
			now := time.Now()
			sd.tick(now)
			if s.recvOn.Load() && now.Sub(s.epoch)-time.Duration(s.lastRecv.Load()) > s.cfg.InactivityTimeout {
				return ErrRTPTimeout
			}
		}
	}
}

// tick sends the frames due by now and plays out as many received frames.
// Frame k is due from sd.start + k×20 ms on.
func (sd *sender) tick(now time.Time) {
	elapsed := now.Sub(sd.start)
	due := int64(elapsed/FrameDuration) + 1
	behind := due - sd.frames
	if behind <= 0 {
		return // a tick the ticker kept while a late one caught up
	}
	st := &sd.s.sendStats
	sd.s.sendMu.Lock()
	st.lateness.Add(elapsed - time.Duration(sd.frames)*FrameDuration)
	if behind > 1 {
		st.lateTicks++
		if behind > maxCatchUp+1 {
			st.skipped += uint64(behind - 1)
		}
	}
	sd.s.sendMu.Unlock()
	if behind > maxCatchUp+1 {
		sd.frames = due - 1
		sd.needMarker = true
	}
	for ; sd.frames < due; sd.frames++ {
		sd.sendFrame()
	}
	sd.playout(int(min(behind, maxCatchUp+1)))
}

// canSend reports whether packets can go out now.
func (sd *sender) canSend() bool {
	return sd.s.sendOn.Load() && sd.s.remote.Load().IsValid()
}

// sendFrame sends the packet for media frame sd.frames.
func (sd *sender) sendFrame() {
	ts := sd.ts0 + uint32(sd.frames)*FrameSamples
	if !sd.canSend() {
		sd.needMarker = true
		if sd.job != nil {
			sd.finishJob(fmt.Errorf("%w: sending stopped during DTMF", ErrSendInactive))
		}
		return
	}
	if sd.job != nil && sd.dtmfFrame(ts) {
		sd.tapSent(nil)
		return
	}
	payload := sd.audioPayload()
	sd.send(sd.needMarker, sd.s.cfg.Codec.PayloadType, ts, payload)
	sd.needMarker = false
}

// audioPayload reads the next frame from the source and encodes it behind
// the header in sd.pkt.
func (sd *sender) audioPayload() []byte {
	ref := sd.s.source.Load()
	if ref != nil && !ref.src.ReadFrame(sd.pcm[:]) {
		sd.s.source.CompareAndSwap(ref, nil) // ended: silence from now on
		ref = nil
	}
	if ref == nil {
		sd.tapSent(nil)
		return append(sd.pkt[:rtpHeaderSize], sd.silence...)
	}
	sd.tapSent(sd.pcm[:])
	return sd.s.cfg.Codec.Encode(sd.pkt[:rtpHeaderSize], sd.pcm[:])
}

// silentFrame is what SendTap gets for a frame without audio.
var silentFrame [FrameSamples]int16

// tapSent gives the frame being sent to SendTap (nil: silence).
func (sd *sender) tapSent(pcm []int16) {
	tap := sd.s.cfg.SendTap
	if tap == nil {
		return
	}
	if pcm == nil {
		pcm = silentFrame[:]
	}
	_ = tap.WriteSample(pcm)
}

// send writes the header in front of the packet built in sd.pkt and sends it.
func (sd *sender) send(marker bool, pt uint8, ts uint32, pkt []byte) {
	putRTPHeader(pkt, marker, pt, sd.seq, ts, sd.ssrc)
	sd.seq++
	wire, err := pkt, error(nil)
	if sd.s.cfg.Crypto != nil {
		wire, err = sd.s.cfg.Crypto.Protect(pkt)
	}
	if err == nil {
		_, err = sd.s.conn.WriteToUDPAddrPort(wire, *sd.s.remote.Load())
	}
	now := time.Now()
	st := &sd.s.sendStats
	sd.s.sendMu.Lock()
	var nerr uint64
	if err != nil {
		st.errors++
		nerr = st.errors
	} else {
		st.packets++
		st.bytes += uint64(len(pkt) - rtpHeaderSize)
	}
	if !st.last.IsZero() {
		st.intervals.Add(now.Sub(st.last))
	}
	st.last = now
	sd.s.sendMu.Unlock()
	if err != nil && nerr&(nerr-1) == 0 { // log the 1st, 2nd, 4th, ... error
		sd.s.log.Debug("rtp send failed", "err", err, "count", nerr)
	}
}

func (sd *sender) startJob(job *dtmfJob) {
	if !sd.canSend() {
		job.done <- fmt.Errorf("%w: cannot send DTMF", ErrSendInactive)
		return
	}
	sd.job = job
}

func (sd *sender) finishJob(err error) {
	sd.job.done <- err
	sd.job = nil
}

func (sd *sender) abortJob() {
	if sd.job != nil {
		sd.finishJob(ErrSessionClosed)
	}
}

// dtmfFrame sends the telephone-event packet for the frame at ts, if the job
// has one there (RFC 4733 §2.5.1). It returns false when the frame is audio.
func (sd *sender) dtmfFrame(ts uint32) bool {
	j := sd.job
	if j.ended {
		j.after++
		if j.after < dtmfEndRepeats {
			sd.sendEvent(j.ts, false, j.codes[j.i], true, j.endDur)
			if j.after == dtmfEndRepeats-1 && (j.i+1 == len(j.codes) || j.cancelled()) {
				sd.finishJob(nil)
			}
			return true
		}
		if j.cancelled() {
			sd.finishJob(nil)
			return false
		}
		if j.after < j.gapFrames {
			return false // audio between events
		}
		j.i, j.k, j.ended = j.i+1, 0, false
	}
	if j.k == 0 {
		j.ts = ts
	}
	j.k++
	end := j.k >= j.durFrames || j.cancelled()
	dur := uint16(min(j.k*FrameSamples, 0xFFFF))
	sd.sendEvent(j.ts, j.k == 1, j.codes[j.i], end, dur)
	if end {
		j.ended, j.after, j.endDur = true, 0, dur
	}
	return true
}

func (sd *sender) sendEvent(ts uint32, marker bool, code uint8, end bool, dur uint16) {
	ev := RFC4733Event{Event: code, End: end, Volume: dtmfVolume, Duration: dur}
	sd.send(marker, sd.s.cfg.EventPT, ts, ev.AppendTo(sd.pkt[:rtpHeaderSize]))
}
