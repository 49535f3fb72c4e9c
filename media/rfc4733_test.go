package media

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestRFC4733EventMarshal(t *testing.T) {
	tests := []struct {
		name  string
		ev    RFC4733Event
		bytes []byte
	}{
		{"digit 5 start", RFC4733Event{Event: 5, Volume: 10, Duration: 160}, []byte{5, 0x0a, 0x00, 0xa0}},
		{"hash end", RFC4733Event{Event: 11, End: true, Volume: 10, Duration: 800}, []byte{11, 0x8a, 0x03, 0x20}},
		{"max", RFC4733Event{Event: 16, End: true, Volume: 63, Duration: 0xFFFF}, []byte{16, 0xbf, 0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ev.AppendTo(nil); !bytes.Equal(got, tt.bytes) {
				t.Errorf("AppendTo = %x, want %x", got, tt.bytes)
			}
			var ev RFC4733Event
			if err := ev.Unmarshal(tt.bytes); err != nil || ev != tt.ev {
				t.Errorf("Unmarshal = %+v, %v; want %+v", ev, err, tt.ev)
			}
		})
	}
	// The R bit is ignored, extra bytes too.
	var ev RFC4733Event
	if err := ev.Unmarshal([]byte{1, 0x4a, 0, 160, 9, 9}); err != nil || ev != (RFC4733Event{Event: 1, Volume: 10, Duration: 160}) {
		t.Errorf("R bit: %+v %v", ev, err)
	}
	for n := range 4 {
		if err := ev.Unmarshal(make([]byte, n)); !errors.Is(err, ErrShortPayload) {
			t.Errorf("%d bytes: err %v, want ErrShortPayload", n, err)
		}
	}
}

func TestDigitEvent(t *testing.T) {
	for i, d := range []byte("0123456789*#ABCD") {
		code, ok := digitEvent(d)
		if !ok || int(code) != i {
			t.Errorf("digitEvent(%q) = %d %v", d, code, ok)
		}
		if back, ok := eventDigit(code); !ok || back != d {
			t.Errorf("eventDigit(%d) = %q", code, back)
		}
	}
	if c, ok := digitEvent('b'); !ok || c != 13 {
		t.Errorf("lower-case b: %d %v", c, ok)
	}
	for _, d := range []byte("xE !") {
		if _, ok := digitEvent(d); ok {
			t.Errorf("digitEvent(%q) accepted", d)
		}
	}
	if _, ok := eventDigit(16); ok {
		t.Error("flash taken as a digit")
	}
}

// evp is one received telephone-event packet.
type evp struct {
	ts   uint32
	code uint8
	end  bool
	dur  uint16
}

// pressPackets is the packet train of one press: durations 160, 320, ...
// up to frames*160, the last one with E, sent three times.
func pressPackets(ts uint32, code uint8, frames int) []evp {
	var ps []evp
	for k := 1; k <= frames; k++ {
		ps = append(ps, evp{ts, code, k == frames, uint16(k * 160)})
	}
	last := ps[len(ps)-1]
	return append(ps, last, last)
}

func concatEvp(parts ...[]evp) []evp {
	var out []evp
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// longPress is a press lasting more than one 0xFFFF segment (RFC 4733
// §2.5.1.3): segment 1 at ts with durations up to 0xFFFF, segment 2 at
// ts+0xFFFF ending after 100 ms.
func longPress(ts uint32, code uint8) []evp {
	var ps []evp
	for d := 160; d < 0xFFFF; d += 160 * 50 { // every 50th packet is enough here
		ps = append(ps, evp{ts, code, false, uint16(d)})
	}
	ps = append(ps, evp{ts, code, false, 0xFFFF})
	return append(ps, pressPackets(ts+0xFFFF, code, 5)...)
}

func TestEventReceiver(t *testing.T) {
	press5 := pressPackets(1000, 5, 5)
	press6 := pressPackets(3000, 6, 5)
	tests := []struct {
		name    string
		packets []evp
		want    string
		dur     []time.Duration // Duration of each press, if checked
	}{
		{"one press", press5, "5", []time.Duration{20 * time.Millisecond}},
		{"two presses", concatEvp(press5, press6), "56", nil},
		{"same key twice", concatEvp(press5, pressPackets(2600, 5, 5)), "55", nil},
		{"lost start", press5[2:], "5", []time.Duration{60 * time.Millisecond}},
		{"only the end packets", press5[4:], "5", []time.Duration{100 * time.Millisecond}},
		{"lost end, next event starts", concatEvp(press5[:3], press6), "56", nil},
		{"lost end, same key again", concatEvp(press5[:3], pressPackets(2600, 5, 5)), "55", nil},
		{"duplicated packets", concatEvp(press5[:2], press5[:2], press5[1:], press5[4:]), "5", nil},
		{"reordered within a press", []evp{press5[1], press5[0], press5[3], press5[2], press5[4]}, "5", []time.Duration{40 * time.Millisecond}},
		{"late end of the previous press", concatEvp(press5[:4], press6[:2], press5[4:], press6[2:]), "56", nil},
		{"long press over the duration wrap", longPress(1000, 1), "1", nil},
		{"long press then the same key", concatEvp(longPress(1000, 1), pressPackets(1000+0xFFFF+3000, 1, 5)), "11", nil},
		{"flash is not a key", pressPackets(1000, 16, 5), "", nil},
		{"timestamp wrap", concatEvp(pressPackets(0xFFFFFF00, 9, 5), pressPackets(0x100, 0, 5)), "90", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newEventReceiver(SampleRate)
			at := time.Unix(1000, 0)
			var got []byte
			var durs []time.Duration
			for i, p := range tt.packets {
				ev := RFC4733Event{Event: p.code, End: p.end, Volume: 10, Duration: p.dur}
				now := at.Add(time.Duration(i) * FrameDuration)
				if pr, ok := r.push(p.ts, ev, now); ok {
					if !pr.At.Equal(now) {
						t.Errorf("press %q At %v, want arrival %v", pr.Digit, pr.At, now)
					}
					got = append(got, pr.Digit)
					durs = append(durs, pr.Duration)
				}
			}
			if string(got) != tt.want {
				t.Errorf("presses %q, want %q", got, tt.want)
			}
			for i, d := range tt.dur {
				if i < len(durs) && durs[i] != d {
					t.Errorf("press %d duration %v, want %v", i, durs[i], d)
				}
			}
		})
	}
}

func TestEventReceiverReset(t *testing.T) {
	r := newEventReceiver(0)
	ev := RFC4733Event{Event: 3, Duration: 160}
	if _, ok := r.push(500, ev, time.Now()); !ok {
		t.Fatal("no press")
	}
	r.reset() // new SSRC: the same timestamp is a new event
	if _, ok := r.push(500, ev, time.Now()); !ok {
		t.Error("no press after reset")
	}
}

func FuzzRFC4733Unmarshal(f *testing.F) {
	f.Add([]byte{5, 0x0a, 0x00, 0xa0})
	f.Add([]byte{11, 0x8a, 0x03, 0x20})
	f.Add([]byte{1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev RFC4733Event
		if ev.Unmarshal(b) != nil {
			return
		}
		var back RFC4733Event
		if err := back.Unmarshal(ev.AppendTo(nil)); err != nil || back != ev {
			t.Fatalf("round trip %+v -> %+v %v", ev, back, err)
		}
		r := newEventReceiver(SampleRate)
		r.push(1, ev, time.Time{})
	})
}
