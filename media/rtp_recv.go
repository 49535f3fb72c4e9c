package media

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"
)

// Receive limits.
const (
	maxDatagram = 1500
	// staleSSRCWindow is how long after a change of remote SSRC packets of
	// the previous SSRC are taken as stragglers and dropped. After it, the
	// old SSRC coming back (e.g. a PBX resuming the original stream after
	// music on hold) is followed like any new stream.
	staleSSRCWindow = time.Second
	// maxReadErrors is how many consecutive unexplained read errors end the
	// read loop (Run then ends by inactivity timeout).
	maxReadErrors = 100
)

// rtpPacket is the part of a received RTP packet the session uses.
type rtpPacket struct {
	marker  bool
	pt      uint8
	seq     uint16
	ts      uint32
	ssrc    uint32
	payload []byte // aliases the datagram
}

// parseRTP parses an RTP packet (RFC 3550 §5.1): version 2, CSRCs and a
// header extension skipped, padding removed. It reports false for anything
// that is not a well-formed RTP packet.
func parseRTP(b []byte, p *rtpPacket) bool {
	if len(b) < rtpHeaderSize || b[0]>>6 != 2 {
		return false
	}
	n := rtpHeaderSize + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		if len(b) < n+4 {
			return false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:]))
	}
	end := len(b)
	if end < n {
		return false
	}
	if b[0]&0x20 != 0 {
		pad := int(b[end-1])
		if pad == 0 || end-pad < n {
			return false
		}
		end -= pad
	}
	p.marker = b[1]&0x80 != 0
	p.pt = b[1] & 0x7f
	p.seq = binary.BigEndian.Uint16(b[2:])
	p.ts = binary.BigEndian.Uint32(b[4:])
	p.ssrc = binary.BigEndian.Uint32(b[8:])
	p.payload = b[n:end]
	return true
}

// receiver is the receive state of a session, guarded by Session.recvMu.
type receiver struct {
	audioPT, eventPT uint8
	jb               *JitterBuffer
	events           *eventReceiver

	haveSSRC, haveOld bool
	ssrc, oldSSRC     uint32
	switchedAt        time.Time
	seq               seqTracker
	lostBefore        int64 // loss counted under earlier SSRCs
	jitter            jitterEstimator

	packets, bytes, garbage, ssrcChanges, dtmf uint64
	last                                       time.Time
	intervals                                  IntervalHistogram
}

func (r *receiver) init(cfg SessionConfig) {
	r.audioPT, r.eventPT = cfg.Codec.PayloadType, cfg.EventPT
	r.jb = NewJitterBuffer(cfg.Codec, cfg.JitterDelay)
	r.events = newEventReceiver(cfg.Codec.ClockRate)
}

// valid reports whether p is a packet this session takes.
func (r *receiver) valid(p *rtpPacket) bool {
	switch {
	case p.pt == r.audioPT:
		return true
	case r.eventPT != 0 && p.pt == r.eventPT:
		return len(p.payload) >= RFC4733PayloadSize
	}
	return false // RTCP on the RTP port lands here too (PT 72-76 with M set)
}

// packet takes one valid packet. It returns a key press when the packet
// starts one, and false when the packet was dropped as a straggler of an
// abandoned SSRC.
func (r *receiver) packet(p *rtpPacket, now time.Time, arrival uint32) (eventPress, bool, bool) {
	if !r.haveSSRC || p.ssrc != r.ssrc {
		if r.haveOld && p.ssrc == r.oldSSRC && now.Sub(r.switchedAt) < staleSSRCWindow {
			r.garbage++
			return eventPress{}, false, false
		}
		r.newSSRC(p.ssrc, now)
	}
	r.packets++
	r.bytes += uint64(len(p.payload))
	if !r.last.IsZero() {
		r.intervals.Add(now.Sub(r.last))
	}
	r.last = now
	r.seq.update(p.seq)
	if p.pt == r.audioPT {
		r.jitter.update(arrival, p.ts)
		r.jb.Push(p.seq, p.payload)
		return eventPress{}, false, true
	}
	r.jb.PushEvent(p.seq)
	var ev RFC4733Event
	if ev.Unmarshal(p.payload) != nil {
		return eventPress{}, false, true
	}
	press, ok := r.events.push(p.ts, ev, now)
	if ok {
		r.dtmf++
	}
	return press, ok, true
}

// newSSRC starts following a new remote stream (RFC 3550 §8.2: a new SSRC
// is a new source): empty jitter buffer, fresh sequence and jitter state.
func (r *receiver) newSSRC(ssrc uint32, now time.Time) {
	if r.haveSSRC {
		r.ssrcChanges++
		r.oldSSRC, r.haveOld, r.switchedAt = r.ssrc, true, now
		r.lostBefore += r.seq.lost()
	}
	r.ssrc, r.haveSSRC = ssrc, true
	r.jb.Reset()
	r.seq = seqTracker{}
	r.jitter = jitterEstimator{}
	r.events.reset()
}

func (r *receiver) fill(st *Stats) {
	st.PacketsReceived, st.BytesReceived = r.packets, r.bytes
	st.Garbage, st.SSRCChanges, st.DTMFReceived = r.garbage, r.ssrcChanges, r.dtmf
	st.Lost = r.lostBefore + r.seq.lost()
	st.Jitter = r.jitter.duration(SampleRate)
	st.Jitterbuffer = r.jb.Stats()
	st.RecvIntervals = r.intervals
	st.MaxRecvGap = r.intervals.Max
}

// readLoop reads the RTP socket until ctx ends or the socket is closed.
func (s *Session) readLoop(ctx context.Context) {
	buf := make([]byte, maxDatagram)
	var p rtpPacket
	errs := 0
	for {
		n, src, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
			if errs++; errs >= maxReadErrors {
				s.log.Warn("rtp read loop giving up", "err", err)
				return
			}
			continue
		}
		errs = 0
		s.receive(buf[:n], src, time.Now(), &p)
	}
}

// receive handles one datagram.
func (s *Session) receive(b []byte, src netip.AddrPort, now time.Time, p *rtpPacket) {
	since := now.Sub(s.epoch)
	arrival := uint32(since / (time.Second / SampleRate)) // RFC 3550 A.8: arrival in timestamp units
	if s.cfg.Crypto != nil {
		var ok bool
		if b, ok = s.unprotect(b); !ok {
			return
		}
	}
	s.recvMu.Lock()
	if !parseRTP(b, p) || !s.rx.valid(p) {
		s.rx.garbage++
		s.recvMu.Unlock()
		return
	}
	press, isPress, ok := s.rx.packet(p, now, arrival)
	s.recvMu.Unlock()
	if !ok {
		return
	}
	s.lastRecv.Store(int64(since))
	if s.cfg.Symmetric {
		s.latch(src)
	}
	if isPress {
		d := DTMF{Digit: press.Digit, Source: DTMFRFC4733, At: press.At, Duration: press.Duration}
		select {
		case s.dtmfOut <- d:
		default:
			s.log.Warn("dtmf dropped: nobody reading") // no digit: it may be a PIN or card digit
		}
	}
}

// latch points the send address at src, the address the far end really
// sends from (symmetric RTP, RFC 4961).
func (s *Session) latch(src netip.AddrPort) {
	if src.Addr().Is4In6() {
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	}
	if *s.remote.Load() == src {
		return
	}
	addr := src
	old := s.remote.Swap(&addr)
	s.log.Info("rtp remote latched", "from", *old, "to", addr)
}

// playout plays n frames out of the jitter buffer into the sink. Once the
// sink has had a frame it gets one every 20 ms, silence while the buffer has
// nothing (e.g. refilling after a new SSRC).
func (sd *sender) playout(n int) {
	s := sd.s
	for range n {
		s.recvMu.Lock()
		kind := s.rx.jb.Pop(sd.rxpcm[:])
		s.recvMu.Unlock()
		if s.cfg.Sink == nil || kind == FrameNone && !sd.sinkStarted {
			continue
		}
		sd.sinkStarted = true
		if err := s.cfg.Sink.WriteSample(sd.rxpcm[:]); err != nil {
			s.log.Debug("rtp sink write failed", "sink", s.cfg.Sink.String(), "err", err)
		}
	}
}
