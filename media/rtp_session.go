package media

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInactivityTimeout is how long a Session waits for RTP before Run
// gives up with ErrRTPTimeout.
const DefaultInactivityTimeout = 30 * time.Second

// SessionConfig are the parameters of one call's RTP session, as negotiated
// in SDP.
type SessionConfig struct {
	Ports     *PortPair      // owned by the session; closed on Close
	Remote    netip.AddrPort // from SDP; may be zero until known
	Codec     Codec          // PCMU or PCMA
	EventPT   uint8          // negotiated telephone-event payload type; 0 = none
	Symmetric bool           // latch the send address to the source of received packets (RFC 4961-style)
	// InactivityTimeout: no RTP received for that long makes Run return
	// ErrRTPTimeout (DefaultInactivityTimeout when zero).
	InactivityTimeout time.Duration
	// JitterDelay is the receive playout delay (DefaultJitterDelay when zero).
	JitterDelay time.Duration
	// Sink receives the decoded 20 ms frames in order (may be nil). It is
	// called from the session's pacing goroutine, so it must return quickly
	// (hand slow work to another goroutine) and must not keep the slice.
	Sink PCM16Writer
	// Crypto, when set, protects every packet sent and unprotects every
	// packet received (SRTP, see NewSRTP); nil is plain RTP.
	Crypto PacketCrypto
	// SendTap, when set, gets each 20 ms frame of audio sent (silence and
	// RFC 4733 event frames as zeros), from the pacing goroutine, under
	// the same rules as Sink: the call recording's right channel.
	SendTap PCM16Writer
	Log     *slog.Logger
}

// PacketCrypto transforms RTP packets on the wire (SRTP). Protect is called
// only from the pacing loop and Unprotect only from the read loop; the
// slices they return are valid until their next call.
type PacketCrypto interface {
	Protect(pkt []byte) ([]byte, error)
	Unprotect(pkt []byte) ([]byte, error)
}

// Session is one call's RTP stream in both directions, on one UDP socket.
//
// Run drives it with two goroutines: a pacing loop on a 20 ms time.Ticker
// that sends one packet per tick and plays one received frame out of the
// jitter buffer into the Sink (one timer per session), and a read loop.
//
// The outgoing stream is one RTP stream for the session's whole life: one
// random SSRC, a sequence number that starts at random and grows by one per
// packet, and a timestamp that starts at random and follows media time (+160
// per 20 ms), whatever the source, DTMF or hold do. When the ticker is late
// by one or two frames (40 ms), the missed frames are sent at once so no
// audio is lost and the far end's jitter buffer absorbs the small burst.
// When it is later than that (the process stalled), the missed frames are
// skipped: the timestamp jumps by the elapsed media time, the marker bit is
// set as after a silence period, and the source resumes where it was,
// instead of sending a burst the far end would have to drop.
type Session struct {
	cfg   SessionConfig
	log   *slog.Logger
	conn  *net.UDPConn
	local netip.AddrPort
	epoch time.Time

	remote   atomic.Pointer[netip.AddrPort]
	source   atomic.Pointer[sourceRef]
	sendOn   atomic.Bool
	recvOn   atomic.Bool
	lastRecv atomic.Int64 // time.Duration since epoch of the last valid packet

	srtpAuthFails, srtpReplays atomic.Uint64 // SRTP packets dropped (srtp.go)

	dtmfReq chan *dtmfJob
	dtmfOut chan DTMF

	started   atomic.Bool
	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	done      chan struct{} // closed when Run has returned (or Close before Run)
	doneOnce  sync.Once

	sendMu    sync.Mutex // guards sendStats
	sendStats sendStats

	recvMu sync.Mutex // guards rx (jitter buffer, receive state and counters)
	rx     receiver
}

type sourceRef struct{ src Source }

// NewSession checks cfg and returns a session ready to Run.
func NewSession(cfg SessionConfig) (*Session, error) {
	switch {
	case cfg.Ports == nil || cfg.Ports.RTP == nil:
		return nil, fmt.Errorf("%w: no RTP socket", ErrSessionConfig)
	case cfg.Codec.Encode == nil || cfg.Codec.Decode == nil:
		return nil, fmt.Errorf("%w: codec %q has no encoder", ErrSessionConfig, cfg.Codec.Name)
	case cfg.Codec.ClockRate != SampleRate:
		return nil, fmt.Errorf("%w: codec %s: clock rate must be %d", ErrSessionConfig, cfg.Codec, SampleRate)
	case cfg.Codec.PayloadType > 127 || cfg.EventPT > 127:
		return nil, fmt.Errorf("%w: payload type above 127", ErrSessionConfig)
	case cfg.EventPT != 0 && cfg.EventPT == cfg.Codec.PayloadType:
		return nil, fmt.Errorf("%w: telephone-event and audio share payload type %d", ErrSessionConfig, cfg.EventPT)
	}
	if cfg.InactivityTimeout <= 0 {
		cfg.InactivityTimeout = DefaultInactivityTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Session{
		cfg:     cfg,
		log:     cfg.Log,
		conn:    cfg.Ports.RTP,
		local:   cfg.Ports.RTPAddr(),
		epoch:   time.Now(),
		dtmfReq: make(chan *dtmfJob),
		dtmfOut: make(chan DTMF, 32),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.rx.init(cfg)
	s.SetRemote(cfg.Remote)
	s.sendOn.Store(true)
	s.recvOn.Store(true)
	return s, nil
}

// Run sends and receives until ctx is done or Close is called (it returns
// nil) or no RTP arrived for the inactivity timeout (ErrRTPTimeout). All
// goroutines it started have ended when it returns; it then closes the DTMF
// channel. Run may be called once.
func (s *Session) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: Run called twice", ErrSessionClosed)
	}
	defer s.finish()
	select {
	case <-s.closing:
		return nil
	default:
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.readLoop(ctx) })
	err := s.sendLoop(ctx)
	cancel()
	_ = s.conn.SetReadDeadline(time.Now()) // wake the read loop; fails harmlessly once closed
	wg.Wait()
	return err
}

// finish marks the session done; no goroutine of Run is left to send DTMF.
func (s *Session) finish() {
	s.doneOnce.Do(func() {
		close(s.dtmfOut)
		close(s.done)
	})
}

// Close stops the session and closes its ports. It is idempotent and does
// not wait for Run to return; wait for that where it matters.
func (s *Session) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closing)
		if !s.started.Load() {
			s.finish()
		}
		err = s.cfg.Ports.Close()
	})
	return err
}

// LocalAddr returns the local RTP address, for the SDP.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// SetSource switches the outgoing audio at the next tick; nil sends silence.
// A source that ends is replaced by silence.
func (s *Session) SetSource(src Source) {
	if src == nil {
		s.source.Store(nil)
		return
	}
	s.source.Store(&sourceRef{src: src})
}

// SetRemote sets where packets are sent (a re-INVITE moved the far end). With
// Symmetric, the next packet received from elsewhere latches it again.
func (s *Session) SetRemote(addr netip.AddrPort) {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	s.remote.Store(&addr)
}

// Remote returns the address packets are currently sent to.
func (s *Session) Remote() netip.AddrPort { return *s.remote.Load() }

// SetDirection puts the session on or off hold: nothing is sent while !send
// (the media clock keeps running, the source is not read, and the first
// packet after has the marker bit), and the inactivity timeout is suspended
// while !recv.
func (s *Session) SetDirection(send, recv bool) {
	s.sendOn.Store(send)
	if recv && !s.recvOn.Load() {
		s.lastRecv.Store(int64(time.Since(s.epoch)))
	}
	s.recvOn.Store(recv)
}

// DTMF returns the key presses received as RFC 4733 events, one per press,
// reported when the first packet of the event arrives (Source DTMFRFC4733).
// The channel is closed when Run returns (or by Close if Run never ran). Presses are dropped (and logged)
// if nobody reads them.
func (s *Session) DTMF() <-chan DTMF { return s.dtmfOut }

// Stats returns a snapshot of the session's counters.
func (s *Session) Stats() Stats {
	var st Stats
	s.sendMu.Lock()
	s.sendStats.fill(&st)
	s.sendMu.Unlock()
	s.recvMu.Lock()
	s.rx.fill(&st)
	s.recvMu.Unlock()
	st.SRTPAuthFailures, st.SRTPReplays = s.srtpAuthFails.Load(), s.srtpReplays.Load()
	return st
}

// String names the session for logs and media chains.
func (s *Session) String() string {
	return fmt.Sprintf("RTPSession(%s %s->%s)", s.cfg.Codec, s.local, s.Remote())
}
