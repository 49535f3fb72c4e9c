package media

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

func testSRTPKeys(t testing.TB, suite SRTPSuite) (a, b SRTPKeys) {
	t.Helper()
	ka, err := NewSRTPKey()
	if err != nil {
		t.Fatal(err)
	}
	kb, err := NewSRTPKey()
	if err != nil {
		t.Fatal(err)
	}
	return SRTPKeys{Suite: suite, Local: ka, Remote: kb}, SRTPKeys{Suite: suite, Local: kb, Remote: ka}
}

func mustSRTP(t testing.TB, k SRTPKeys) *SRTP {
	t.Helper()
	s, err := NewSRTP(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSRTPSessionToneAndDTMF runs two sessions over SRTP: a tone and RFC
// 4733 events sent by one arrive decrypted at the other, and what crossed
// the wire was not the plain packets.
func TestSRTPSessionToneAndDTMF(t *testing.T) {
	checkLeaks(t)
	for _, suite := range []SRTPSuite{SRTPAESCM128HMACSHA180, SRTPAESCM128HMACSHA132} {
		t.Run(string(suite), func(t *testing.T) {
			ka, kb := testSRTPKeys(t, suite)
			col := newFrameCollector(60)
			a, b := sessionPair(t, SessionConfig{EventPT: 101, Crypto: mustSRTP(t, ka)},
				SessionConfig{EventPT: 101, Sink: col, Crypto: mustSRTP(t, kb)})
			a.SetSource(rtpTestTone(1000, 8000))
			ctx, cancel := context.WithCancel(t.Context())
			ra, rb := rtpRun(ctx, a), rtpRun(ctx, b)
			rtpWait(t, col.full, "60 frames")
			if err := a.SendDTMF(ctx, "5#", 80*time.Millisecond, 60*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			var got []byte
			for len(got) < 2 {
				select {
				case d := <-b.DTMF():
					got = append(got, d.Digit)
				case <-time.After(5 * time.Second):
					t.Fatalf("DTMF over SRTP: got %q, want 5#", got)
				}
			}
			cancel()
			rtpWaitRun(t, ra)
			rtpWaitRun(t, rb)
			pcm := voicedRun(col.snapshot(), 20)
			want := 8000 / math.Sqrt2
			if got := testRMS(pcm); math.Abs(got-want) > 0.05*want {
				t.Errorf("level: rms %.0f, want %.0f±5%%", got, want)
			}
			if f := testZeroCrossFreq(pcm); math.Abs(f-1000) > 20 {
				t.Errorf("frequency %.0f Hz, want 1000", f)
			}
			if string(got) != "5#" {
				t.Errorf("DTMF %q, want 5#", got)
			}
			st := b.Stats()
			if st.SRTPAuthFailures != 0 || st.SRTPReplays != 0 || st.Garbage != 0 {
				t.Errorf("receiver dropped packets: auth %d replay %d garbage %d", st.SRTPAuthFailures, st.SRTPReplays, st.Garbage)
			}
		})
	}
}

// TestSRTPWrongKeyDropsAndCounts: packets under a key the receiver does not
// have are dropped and counted; the session keeps running and takes the
// right key after Rekey.
func TestSRTPWrongKeyDropsAndCounts(t *testing.T) {
	checkLeaks(t)
	ka, kb := testSRTPKeys(t, SRTPAESCM128HMACSHA180)
	wrong, _ := NewSRTPKey()
	bad := kb
	bad.Remote = wrong
	rxCrypto := mustSRTP(t, bad)
	col := newFrameCollector(20)
	a, b := sessionPair(t, SessionConfig{Crypto: mustSRTP(t, ka)}, SessionConfig{Sink: col, Crypto: rxCrypto})
	a.SetSource(rtpTestTone(1000, 8000))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ra, rb := rtpRun(ctx, a), rtpRun(ctx, b)
	deadline := time.After(5 * time.Second)
	for b.Stats().SRTPAuthFailures < 10 {
		select {
		case <-deadline:
			t.Fatalf("auth failures not counted: %+v", b.Stats().SRTPAuthFailures)
		case <-time.After(20 * time.Millisecond): // bounded poll of a counter
		}
	}
	if st := b.Stats(); st.PacketsReceived != 0 {
		t.Errorf("%d packets under a wrong key were taken", st.PacketsReceived)
	}
	if err := rxCrypto.Rekey(kb); err != nil {
		t.Fatal(err)
	}
	rtpWait(t, col.full, "audio after rekey")
	cancel()
	if err := rtpWaitRun(t, ra); err != nil {
		t.Errorf("Run a: %v", err)
	}
	if err := rtpWaitRun(t, rb); err != nil {
		t.Errorf("Run b: %v", err)
	}
}

// TestSRTPUnprotectErrors: replays, forged tags, garbage and truncation
// are refused with the right error, never a panic.
func TestSRTPUnprotectErrors(t *testing.T) {
	ka, kb := testSRTPKeys(t, SRTPAESCM128HMACSHA132)
	tx, rx := mustSRTP(t, ka), mustSRTP(t, kb)
	plain := rawRTP(0, 1000, 160, 0x1234, bytes.Repeat([]byte{0xff}, 160))
	wire, err := tx.Protect(plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(wire) != len(plain)+4 || bytes.Equal(wire[12:172], plain[12:]) {
		t.Fatalf("protected packet is %d bytes or carries the plain payload", len(wire))
	}
	first := bytes.Clone(wire)
	got, err := rx.Unprotect(bytes.Clone(first))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("unprotect: %v", err)
	}
	next, err := tx.Protect(rawRTP(0, 1001, 320, 0x1234, bytes.Repeat([]byte{0xff}, 160)))
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Clone(next)
	forged[20] ^= 1 // a new index, so only the tag can refuse it
	tests := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"replay", bytes.Clone(first), ErrSRTPReplay},
		{"forged", forged, ErrSRTPAuth},
		{"short", first[:8], nil},
		{"empty", nil, nil},
		{"header only", first[:12], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rx.Unprotect(tt.pkt)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSRTPBadKeys(t *testing.T) {
	k, _ := NewSRTPKey()
	tests := []SRTPKeys{
		{Suite: "AES_256_CM_HMAC_SHA1_80", Local: k, Remote: k},
		{Suite: SRTPAESCM128HMACSHA180, Local: k[:16], Remote: k},
		{Suite: SRTPAESCM128HMACSHA180, Local: k, Remote: nil},
	}
	for _, keys := range tests {
		if _, err := NewSRTP(keys); !errors.Is(err, ErrSRTPKeys) {
			t.Errorf("%s %d/%d: err %v", keys.Suite, len(keys.Local), len(keys.Remote), err)
		}
	}
}

// BenchmarkSRTPProtect is the cost of protecting one 20 ms PCMU packet.
func BenchmarkSRTPProtect(b *testing.B) {
	for _, suite := range []SRTPSuite{SRTPAESCM128HMACSHA180, SRTPAESCM128HMACSHA132} {
		b.Run(string(suite), func(b *testing.B) {
			ka, _ := testSRTPKeys(b, suite)
			tx := mustSRTP(b, ka)
			pkt := rawRTP(0, 0, 0, 0x1234, make([]byte, FrameSamples))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				putRTPHeader(pkt, false, 0, uint16(i), uint32(i*FrameSamples), 0x1234)
				if _, err := tx.Protect(pkt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSRTPUnprotect is the cost of checking and decrypting one 20 ms
// PCMU packet (with replay protection).
func BenchmarkSRTPUnprotect(b *testing.B) {
	for _, suite := range []SRTPSuite{SRTPAESCM128HMACSHA180, SRTPAESCM128HMACSHA132} {
		b.Run(string(suite), func(b *testing.B) {
			ka, kb := testSRTPKeys(b, suite)
			tx, rx := mustSRTP(b, ka), mustSRTP(b, kb)
			const n = 4096
			wire := make([][]byte, n)
			for i := range wire {
				p, err := tx.Protect(rawRTP(0, uint16(i), uint32(i*FrameSamples), 0x1234, make([]byte, FrameSamples)))
				if err != nil {
					b.Fatal(err)
				}
				wire[i] = bytes.Clone(p)
			}
			buf := make([]byte, 0, maxDatagram)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%n == 0 && i > 0 {
					b.StopTimer()
					rx = mustSRTP(b, kb) // a fresh replay window for the same packets
					b.StartTimer()
				}
				buf = append(buf[:0], wire[i%n]...)
				if _, err := rx.Unprotect(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// voicedRun returns n frames starting two frames after the first voiced
// one (the receiver plays silence until the sender's first packets).
func voicedRun(frames [][]int16, n int) []int16 {
	var pcm []int16
	for i, f := range frames {
		if testRMS(f) > 1000 && i+2+n <= len(frames) {
			for _, g := range frames[i+2 : i+2+n] {
				pcm = append(pcm, g...)
			}
			return pcm
		}
	}
	return pcm
}
