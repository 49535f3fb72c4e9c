package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/supportline/ivr/media"
)

// Leg defaults.
const (
	// DefaultDisconnectedTimeout is how long the leg may see nothing from the
	// browser before it counts as disconnected and Done is closed.
	DefaultDisconnectedTimeout = 5 * time.Second
	// DefaultLegJitterDelay is the playout delay of the agent's voice: one
	// 20 ms frame.
	DefaultLegJitterDelay = media.FrameDuration
	// legSendQueue is how many encoded caller frames may wait for the
	// writer goroutine (160 ms) before WriteSample drops frames.
	legSendQueue = 8
	// legMaxPause is the pause in caller frames, in frames, beyond which
	// the missing frames' media time is skipped (a late pacing tick that
	// catches up is shorter).
	legMaxPause = 3
	// legMaxSkip caps the sequence numbers skipped at once.
	legMaxSkip = 2500
)

// LegConfig configures the WebRTC side of one bridged call.
type LegConfig struct {
	Codec      string             // "PCMU" or "PCMA": the caller's codec (the browser leg uses the same, no transcoding of law)
	ICEServers []webrtc.ICEServer // STUN/TURN for agents behind NAT; empty in tests
	HostIPs    []netip.Addr       // host candidate addresses allowed (e.g. 127.0.0.1); empty = every interface
	PortMin    uint16             // UDP range for ICE (0 = any)
	PortMax    uint16             // UDP range for ICE (0 = any)
	Log        *slog.Logger

	// DisconnectedTimeout is how long ICE may receive nothing before the leg
	// is disconnected and Done closes (DefaultDisconnectedTimeout when zero).
	DisconnectedTimeout time.Duration
	// JitterDelay is the playout delay of the agent's voice
	// (DefaultLegJitterDelay when zero), rounded up to 20 ms frames.
	JitterDelay time.Duration
}

// LegStats are the counters of a Leg.
type LegStats struct {
	Sent        uint64            // caller frames handed to the track
	SendDropped uint64            // caller frames dropped because the writer was behind
	Received    uint64            // RTP packets of the agent's track
	OddSize     uint64            // of those, packets that were not 20 ms (cut or padded)
	Jitter      media.JitterStats // the agent's voice playout
}

// Leg is the WebRTC media leg of one bridged call: one PeerConnection with
// one sendrecv G.711 audio track to the agent's browser. It implements
// media.PCM16Writer (the caller's voice in) and gives the agent's voice out
// through Source. Close must be called once the leg is no longer needed.
type Leg struct {
	codec  media.Codec
	log    *slog.Logger
	pc     *webrtc.PeerConnection
	track  *webrtc.TrackLocalStaticSample
	sender *webrtc.RTPSender

	encMu     sync.Mutex // guards enc (WriteSample may be called from more than one goroutine)
	enc       legPacket
	lastWrite time.Time // of the last WriteSample, for skipPause
	out       chan legPacket
	sent      atomic.Uint64
	dropped   atomic.Uint64

	rx legReceiver

	connected, done    chan struct{}
	connOnce, doneOnce sync.Once
	closing            chan struct{}
	closed             atomic.Bool
	mu                 sync.Mutex // guards stopped and wg.Add
	stopped            bool
	wg                 sync.WaitGroup
}

var _ media.PCM16Writer = (*Leg)(nil)

// legPacket is one encoded 20 ms G.711 frame, with the number of frames
// dropped just before it (their RTP sequence numbers and media time are
// skipped, so the browser sees the loss instead of compressed time).
type legPacket struct {
	data    [media.FrameSamples]byte
	dropped uint16
}

// NewLeg checks cfg and returns a leg with its PeerConnection and audio
// track set up, ready for Offer.
func NewLeg(cfg LegConfig) (*Leg, error) {
	codec, err := media.CodecByName(cfg.Codec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLegConfig, err)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	api, err := newLegAPI(cfg, codec)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: cfg.ICEServers})
	if err != nil {
		return nil, fmt.Errorf("%w: new peer connection (check the ICE servers): %w", ErrLegConfig, err)
	}
	l := &Leg{
		codec:     codec,
		log:       cfg.Log,
		pc:        pc,
		out:       make(chan legPacket, legSendQueue),
		connected: make(chan struct{}),
		done:      make(chan struct{}),
		closing:   make(chan struct{}),
	}
	l.rx.init(codec, cfg.JitterDelay)
	if err := l.addTrack(); err != nil {
		return nil, fmt.Errorf("bridge: %w", errJoin(err, pc.Close()))
	}
	pc.OnConnectionStateChange(l.onState)
	pc.OnTrack(l.onTrack)
	l.wg.Add(2)
	go l.writeLoop()
	go l.drainRTCP()
	return l, nil
}

// addTrack adds the leg's one outgoing audio track (a sendrecv transceiver).
func (l *Leg) addTrack() error {
	track, err := webrtc.NewTrackLocalStaticSample(legCapability(l.codec), "audio", "ivr-caller")
	if err != nil {
		return fmt.Errorf("new audio track: %w", err)
	}
	sender, err := l.pc.AddTrack(track)
	if err != nil {
		return fmt.Errorf("add audio track: %w", err)
	}
	l.track, l.sender = track, sender
	return nil
}

// String names the stage for printed media chains, e.g. "WebRTCLeg(PCMU/8000)".
func (l *Leg) String() string { return "WebRTCLeg(" + l.codec.String() + ")" }

// SampleRate returns 8000: the leg takes and gives 8 kHz frames.
func (l *Leg) SampleRate() int { return media.SampleRate }

// Offer creates the server's SDP offer (audio sendrecv, one track) with ICE
// gathering complete (bounded by ctx), so signaling is one offer and one
// answer, no trickle.
func (l *Leg) Offer(ctx context.Context) (string, error) {
	if l.closed.Load() {
		return "", ErrLegClosed
	}
	offer, err := l.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("bridge: create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(l.pc)
	if err := l.pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("bridge: set local offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("bridge: gathering ICE candidates: %w", ctx.Err())
	case <-l.closing:
		return "", ErrLegClosed
	}
	return l.pc.LocalDescription().SDP, nil
}

// Answer applies the browser's SDP answer. A malformed answer gives an
// error wrapping ErrBadAnswer; one that rejects the audio or the caller's
// codec, or will not receive audio, an error wrapping ErrCodecRefused.
// Answers refused by the leg's own checks leave it as it was, so another
// answer may follow; an error from pion itself (also ErrBadAnswer) may
// leave the PeerConnection unusable: close the leg then.
func (l *Leg) Answer(sdp string) error {
	if l.closed.Load() {
		return ErrLegClosed
	}
	if err := checkAnswer(sdp, l.codec); err != nil {
		return err
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}
	if err := l.pc.SetRemoteDescription(desc); err != nil {
		return fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	return nil
}

// Connected is closed once media flows (ICE + DTLS connected).
func (l *Leg) Connected() <-chan struct{} { return l.connected }

// Done is closed when the peer connection failed, closed or stayed
// disconnected (the agent's browser dropped), and on Close.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Stats returns the leg's counters.
func (l *Leg) Stats() LegStats {
	st := LegStats{Sent: l.sent.Load(), SendDropped: l.dropped.Load()}
	l.rx.fill(&st)
	return st
}

// onState follows the PeerConnection state: Connected closes Connected;
// Failed, Closed and Disconnected close Done.
func (l *Leg) onState(s webrtc.PeerConnectionState) {
	l.log.Debug("webrtc leg state", "state", s.String())
	switch s {
	case webrtc.PeerConnectionStateConnected:
		l.connOnce.Do(func() { close(l.connected) })
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed,
		webrtc.PeerConnectionStateDisconnected:
		l.doneOnce.Do(func() { close(l.done) })
	}
}

// Close ends the PeerConnection and every goroutine of the leg; it returns
// once they have ended. Close is idempotent.
func (l *Leg) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	close(l.closing)
	err := l.pc.GracefulClose()
	l.wg.Wait()
	l.doneOnce.Do(func() { close(l.done) })
	if err != nil {
		return fmt.Errorf("bridge: close peer connection: %w", err)
	}
	return nil
}

// goStarted registers a goroutine started by pion (OnTrack) with the leg's
// wait group; it reports false once the leg is closing.
func (l *Leg) goStarted() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return false
	}
	l.wg.Add(1)
	return true
}

func errJoin(err, closeErr error) error {
	if closeErr != nil {
		return fmt.Errorf("%w (and closing: %v)", err, closeErr)
	}
	return err
}
