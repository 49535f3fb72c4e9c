package bridge

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/supportline/ivr/media"
)

// WriteSample takes one 20 ms caller frame (160 samples, 8 kHz) and sends
// it to the agent. It encodes the frame and hands it to the leg's writer
// goroutine without waiting: when the writer is behind by legSendQueue
// frames, the frame is dropped (counted in Stats). Before the browser is
// connected frames go nowhere. It does not keep frame.
func (l *Leg) WriteSample(frame []int16) error {
	return l.writeSampleAt(frame, time.Now())
}

func (l *Leg) writeSampleAt(frame []int16, now time.Time) error {
	if len(frame) != media.FrameSamples {
		return ErrFrameSize
	}
	if l.closed.Load() {
		return ErrLegClosed
	}
	l.encMu.Lock()
	l.skipPause(now)
	l.codec.Encode(l.enc.data[:0], frame)
	select {
	case l.out <- l.enc:
		l.enc.dropped = 0
	default:
		l.enc.dropped = min(l.enc.dropped+1, legMaxSkip)
		l.dropped.Add(1)
	}
	l.encMu.Unlock()
	return nil
}

// skipPause keeps the RTP timestamp on media time across a pause in the
// caller's frames (e.g. while the caller was on hold): when more than
// legMaxPause frames' time passed since the last WriteSample, the missing
// frames count as dropped, so their sequence numbers and media time are
// skipped (at most legMaxSkip, below RFC 3550's MAX_DROPOUT of 3000, so
// the browser takes it for loss, not a new stream). l.encMu is held.
func (l *Leg) skipPause(now time.Time) {
	last := l.lastWrite
	l.lastWrite = now
	if last.IsZero() {
		return
	}
	if gap := now.Sub(last); gap > legMaxPause*media.FrameDuration {
		missed := min(int64(gap/media.FrameDuration)-1, legMaxSkip-int64(l.enc.dropped))
		l.enc.dropped += uint16(max(missed, 0))
	}
}

// writeLoop writes the encoded caller frames to the track (SRTP, UDP) until
// Close.
func (l *Leg) writeLoop() {
	defer l.wg.Done()
	buf := make([]byte, media.FrameSamples)
	for {
		select {
		case <-l.closing:
			return
		case p := <-l.out:
			copy(buf, p.data[:])
			err := l.track.WriteSample(pmedia.Sample{Data: buf, Duration: media.FrameDuration,
				PrevDroppedPackets: p.dropped})
			if err != nil && !l.closed.Load() {
				l.log.Debug("webrtc leg: write to the agent", "err", err)
				continue
			}
			l.sent.Add(1)
		}
	}
}

// drainRTCP reads the RTCP the browser sends about our track (pion's
// interceptors act on it while it is read) until the PeerConnection closes.
func (l *Leg) drainRTCP() {
	defer l.wg.Done()
	buf := make([]byte, 1500)
	for {
		if _, _, err := l.sender.Read(buf); err != nil {
			return
		}
	}
}

// onTrack reads the agent's audio track into the jitter buffer until the
// PeerConnection closes. pion calls it on a goroutine of its own.
func (l *Leg) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	if !l.goStarted() {
		return
	}
	defer l.wg.Done()
	if tr.Kind() != webrtc.RTPCodecTypeAudio {
		l.log.Warn("webrtc leg: ignoring a non-audio track", "kind", tr.Kind().String())
		return
	}
	l.log.Debug("webrtc leg: agent track", "ssrc", uint32(tr.SSRC()), "codec", tr.Codec().MimeType)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !l.closed.Load() {
				l.log.Debug("webrtc leg: agent track ended", "err", err)
			}
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != l.codec.PayloadType {
			continue
		}
		if l.rx.push(pkt.SSRC, pkt.SequenceNumber, pkt.Payload) {
			l.log.Warn("webrtc leg: the browser sends packets that are not 20 ms; its audio will be cut or padded",
				"bytes", len(pkt.Payload))
		}
	}
}

// legReceiver is the agent's voice between the track reader and the
// caller's pacing clock.
type legReceiver struct {
	mu       sync.Mutex // guards everything below
	jb       *media.JitterBuffer
	ssrc     uint32
	haveSSRC bool
	received uint64
	oddSize  uint64 // packets whose payload is not 20 ms
}

func (r *legReceiver) init(codec media.Codec, delay time.Duration) {
	if delay <= 0 {
		delay = DefaultLegJitterDelay
	}
	r.jb = media.NewJitterBuffer(codec, delay)
}

// push stores one packet's payload; a new SSRC restarts the buffer. It
// reports true for the first packet whose payload is not 20 ms of G.711
// (the jitter buffer cuts or pads it to 20 ms), so that is logged once.
func (r *legReceiver) push(ssrc uint32, seq uint16, payload []byte) (firstOdd bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.haveSSRC && ssrc != r.ssrc {
		r.jb.Reset()
	}
	r.ssrc, r.haveSSRC = ssrc, true
	r.received++
	if len(payload) != media.FrameSamples {
		r.oddSize++
		firstOdd = r.oddSize == 1
	}
	r.jb.Push(seq, payload)
	return firstOdd
}

func (r *legReceiver) pop(f []int16) {
	r.mu.Lock()
	r.jb.Pop(f)
	r.mu.Unlock()
}

func (r *legReceiver) fill(st *LegStats) {
	r.mu.Lock()
	st.Received, st.OddSize, st.Jitter = r.received, r.oddSize, r.jb.Stats()
	r.mu.Unlock()
}

// Source is the agent's voice for the caller's outgoing RTP stream: a
// media.Source that yields 20 ms frames, silence while nothing arrived
// (never ends before Close). Each ReadFrame plays one frame out of the
// leg's jitter buffer, so it must be pulled on a 20 ms clock (the RTP
// session's pacing loop).
func (l *Leg) Source() media.Source { return legSource{l} }

type legSource struct{ l *Leg }

// ReadFrame fills f with the next 20 ms of the agent's voice; it returns
// false once the leg is closed.
func (s legSource) ReadFrame(f []int16) bool {
	if s.l.closed.Load() || len(f) < media.FrameSamples {
		return false
	}
	s.l.rx.pop(f)
	return true
}
