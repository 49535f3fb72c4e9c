package bridge

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/supportline/ivr/media"
)

// testLoopback is the only address the tests send to.
var testLoopback = netip.MustParseAddr("127.0.0.1")

// testLegConfig is a leg on loopback only, with a short disconnect timeout.
func testLegConfig(codec string) LegConfig {
	return LegConfig{
		Codec:               codec,
		HostIPs:             []netip.Addr{testLoopback},
		DisconnectedTimeout: time.Second,
	}
}

// rxFrame is one RTP packet the test peer received, decoded, with its
// arrival time.
type rxFrame struct {
	at  time.Time
	pcm []int16
	seq uint16
	ts  uint32
}

// testPeer is a real pion PeerConnection standing in for the agent's
// browser: it registers pion's default codecs (Opus, G.722, PCMU, PCMA, as
// a browser offers them), answers the leg's offer with a sendrecv audio
// track, records what it receives and plays what it is given. It uses
// loopback host candidates only and no mDNS.
type testPeer struct {
	t     testing.TB
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticSample
	codec media.Codec
	conn  *cuttableConn // nil unless newTestPeer was given cut = true

	mu     sync.Mutex // guards rx, closed and wg.Add
	rx     []rxFrame
	closed bool

	gotTrack  chan struct{}
	connected chan struct{} // closed when the peer's own side is connected
	once      sync.Once
	connOnce  sync.Once
	wg        sync.WaitGroup
}

// newTestPeer returns a browser stand-in for codec ("PCMU" or "PCMA").
// With cut, its UDP socket can be cut (see cuttableConn) to make it vanish
// without a goodbye.
func newTestPeer(t testing.TB, codecName string, cut bool) *testPeer {
	t.Helper()
	codec, err := media.CodecByName(codecName)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPeer{t: t, codec: codec, gotTrack: make(chan struct{}), connected: make(chan struct{})}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	if cut {
		p.conn = listenCuttable(t)
		mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: p.conn})
		t.Cleanup(func() { _ = mux.Close() })
		se.SetICEUDPMux(mux)
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	if p.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	p.pc.OnTrack(p.onTrack)
	p.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.connOnce.Do(func() { close(p.connected) })
		}
	})
	return p
}

// answer applies the leg's offer, adds the peer's microphone track and
// returns its answer with gathering complete.
func (p *testPeer) answer(ctx context.Context, offer string) (string, error) {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", err
	}
	track, err := webrtc.NewTrackLocalStaticSample(legCapability(p.codec), "mic", "agent")
	if err != nil {
		return "", err
	}
	sender, err := p.pc.AddTrack(track)
	if err != nil {
		return "", err
	}
	p.track = track
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return p.pc.LocalDescription().SDP, nil
}

func (p *testPeer) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()
	p.once.Do(func() { close(p.gotTrack) })
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		at := time.Now()
		pcm := p.codec.Decode(nil, pkt.Payload)
		p.mu.Lock()
		p.rx = append(p.rx, rxFrame{at: at, pcm: pcm, seq: pkt.SequenceNumber, ts: pkt.Timestamp})
		p.mu.Unlock()
	}
}

// received returns a copy of what the peer has received so far.
func (p *testPeer) received() []rxFrame {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]rxFrame(nil), p.rx...)
}

// writeFrame sends one 20 ms frame from the peer's microphone.
func (p *testPeer) writeFrame(pcm []int16) error {
	return p.track.WriteSample(pmedia.Sample{Data: p.codec.Encode(nil, pcm), Duration: media.FrameDuration})
}

func (p *testPeer) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	_ = p.pc.GracefulClose()
	p.wg.Wait()
}

// connect runs the offer/answer exchange between leg and peer and waits
// until both sides are connected (the leg, as DTLS server, is done with
// the handshake before the peer).
func connect(ctx context.Context, t testing.TB, leg *Leg, peer *testPeer) {
	t.Helper()
	start := time.Now()
	offer, err := leg.Offer(ctx)
	if err != nil {
		t.Fatalf("offer: %v", err)
	}
	offered := time.Since(start)
	ans, err := peer.answer(ctx, offer)
	if err != nil {
		t.Fatalf("peer answer: %v", err)
	}
	if err := leg.Answer(ans); err != nil {
		t.Fatalf("leg answer: %v", err)
	}
	for _, c := range []<-chan struct{}{leg.Connected(), peer.connected} {
		select {
		case <-c:
		case <-leg.Done():
			t.Fatal("leg done before connected")
		case <-ctx.Done():
			t.Fatal("timed out waiting for the leg and the peer to connect")
		}
	}
	t.Logf("offer (gathering complete) in %v, both sides connected %v after the start",
		offered.Round(10*time.Microsecond), time.Since(start).Round(10*time.Microsecond))
}

// cuttableConn is a loopback UDP socket (closed by the UDP mux over it) that can be cut: from then on
// everything written is dropped and everything read is ignored, as when a
// browser's machine vanishes from the network without a goodbye.
type cuttableConn struct {
	net.PacketConn
	cut atomic.Bool
}

func listenCuttable(t testing.TB) *cuttableConn {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &cuttableConn{PacketConn: c}
}

func (c *cuttableConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.cut.Load() {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}

func (c *cuttableConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || !c.cut.Load() {
			return n, addr, err
		}
	}
}
