package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
)

// fuzzPackets splits fuzz input into datagrams: each is a 2-byte
// big-endian length (modulo the datagram limit) and that many bytes.
func fuzzPackets(data []byte) [][]byte {
	var out [][]byte
	for len(data) >= 2 {
		n := int(binary.BigEndian.Uint16(data)) % (maxDatagram + 1)
		data = data[2:]
		n = min(n, len(data))
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// joinPackets is fuzzPackets' inverse, for seeds.
func joinPackets(pkts ...[]byte) []byte {
	var out []byte
	for _, p := range pkts {
		out = binary.BigEndian.AppendUint16(out, uint16(len(p)))
		out = append(out, p...)
	}
	return out
}

// rtpSeed builds one RTP packet for a seed.
func rtpSeed(pt uint8, marker bool, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, rtpHeaderSize, rtpHeaderSize+len(payload))
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

func rtpSeeds() [][]byte {
	audio := make([]byte, 160)
	for i := range audio {
		audio[i] = byte(0xff - i%32)
	}
	ev := func(code uint8, end bool, dur uint16) []byte {
		return RFC4733Event{Event: code, End: end, Volume: 10, Duration: dur}.AppendTo(nil)
	}
	ext := rtpSeed(0, false, 10, 1600, 7, audio)
	ext[0] |= 0x10 // header extension of one word
	ext = append(ext[:rtpHeaderSize:rtpHeaderSize], append([]byte{0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0}, audio...)...)
	padded := append(rtpSeed(8, false, 3, 480, 9, audio[:20]), 0, 0, 3)
	padded[0] |= 0x20
	csrc := append(rtpSeed(0, false, 4, 640, 9, nil), 0, 0, 0, 1, 0, 0, 0, 2)
	csrc[0] |= 2
	csrc = append(csrc, audio...)
	// An RTCP receiver report arriving on the RTP port (rtcp-mux): PT 201.
	rtcpRR := []byte{0x81, 0xc9, 0, 7, 0, 0, 0, 9, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	// An RTCP sender report (PT 200) with no report blocks.
	rtcpSR := []byte{0x80, 0xc8, 0, 6, 0, 0, 0, 9, 0xe1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x3, 0x20, 0, 0, 0, 1, 0, 0, 0, 160}
	return [][]byte{
		joinPackets(rtpSeed(0, true, 1, 160, 7, audio), rtpSeed(0, false, 2, 320, 7, audio), rtpSeed(0, false, 3, 480, 7, audio)),
		joinPackets(rtpSeed(0, false, 65535, 0, 7, audio), rtpSeed(0, false, 0, 160, 7, audio), rtpSeed(0, false, 2, 480, 7, audio)),
		joinPackets(rtpSeed(101, true, 1, 8000, 7, ev(5, false, 160)), rtpSeed(101, false, 2, 8000, 7, ev(5, false, 320)),
			rtpSeed(101, false, 3, 8000, 7, ev(5, true, 800)), rtpSeed(101, false, 4, 8000, 7, ev(5, true, 800))),
		joinPackets(rtpSeed(101, true, 1, 100, 7, ev(16, false, 160)), rtpSeed(101, false, 2, 100, 7, ev(11, true, 400))),
		joinPackets(rtpSeed(0, false, 1, 160, 1, audio), rtpSeed(0, false, 1, 160, 2, audio), rtpSeed(0, false, 2, 320, 1, audio)),
		joinPackets(ext, padded, csrc, rtcpRR, rtcpSR),
		joinPackets([]byte{0x80}, []byte{}, []byte("not rtp at all"), rtpSeed(0, false, 1, 1, 1, nil)),
	}
}

// FuzzRTPReceive drives datagrams through the session's receive path as the
// read loop does (parse, payload type check, SSRC tracking, jitter buffer,
// telephone-event detection) and plays the buffer out (G.711 decode,
// concealment) after each one.
func FuzzRTPReceive(f *testing.F) {
	for _, s := range rtpSeeds() {
		f.Add(s)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewSession(SessionConfig{Ports: NewPortPair(conn, nil), Codec: PCMU, EventPT: 101, Symmetric: true,
		Remote: netip.MustParseAddrPort("127.0.0.1:9")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	src := netip.MustParseAddrPort("127.0.0.1:40000")
	f.Fuzz(func(t *testing.T, data []byte) {
		s.recvMu.Lock()
		s.rx = receiver{}
		s.rx.init(s.cfg)
		s.recvMu.Unlock()
		var p rtpPacket
		pcm := make([]int16, FrameSamples+8)
		now := time.Unix(1e9, 0)
		for _, pkt := range fuzzPackets(data) {
			now = now.Add(20 * time.Millisecond)
			s.receive(pkt, src, now, &p)
			s.recvMu.Lock()
			kind := s.rx.jb.Pop(pcm)
			depth := s.rx.jb.Depth()
			st := s.rx.jb.Stats()
			s.recvMu.Unlock()
			if kind > FrameEvent {
				t.Fatalf("Pop returned kind %d", kind)
			}
			if depth < 0 || depth > jbSlots {
				t.Fatalf("jitter buffer depth %d outside [0,%d]", depth, jbSlots)
			}
			if st.Played > uint64(len(data)) {
				t.Fatalf("played %d frames from %d bytes", st.Played, len(data))
			}
		}
		for {
			select {
			case d := <-s.DTMF():
				if !ValidDigit(d.Digit) || d.Source != DTMFRFC4733 {
					t.Fatalf("bad DTMF %+v", d)
				}
				continue
			default:
			}
			break
		}
		var st Stats
		s.recvMu.Lock()
		s.rx.fill(&st)
		s.recvMu.Unlock()
		if st.PacketsReceived+st.Garbage > uint64(len(data)) {
			t.Fatalf("%d packets + %d garbage from %d bytes", st.PacketsReceived, st.Garbage, len(data))
		}
	})
}

// FuzzDTMFDetector feeds arbitrary PCM (little-endian 16-bit samples) to
// the in-band detector in uneven frames: no panic, only DTMF keys out.
func FuzzDTMFDetector(f *testing.F) {
	tone := GenerateDTMF('7', 80*time.Millisecond, 0.5)
	seed := make([]byte, 0, 2*len(tone))
	for _, v := range tone {
		seed = binary.LittleEndian.AppendUint16(seed, uint16(v))
	}
	f.Add(seed, uint8(160))
	f.Add(make([]byte, 640), uint8(7))
	f.Add([]byte{0xff, 0x7f, 0x00, 0x80}, uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, frame uint8) {
		if len(b) > 16<<10 {
			b = b[:16<<10] // one second of audio is enough (and keeps the rate up)
		}
		pcm := make([]int16, len(b)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		d := NewDTMFDetector(WithDTMFClock(func() time.Time { return time.Unix(0, 0) }))
		step := max(int(frame), 1)
		check := func(ps []DTMF) {
			for _, p := range ps {
				if !ValidDigit(p.Digit) || p.Duration < 0 {
					t.Fatalf("press %+v", p)
				}
			}
		}
		for off := 0; off < len(pcm); off += step {
			check(d.Process(pcm[off:min(off+step, len(pcm))]))
		}
		check(d.Flush())
	})
}
