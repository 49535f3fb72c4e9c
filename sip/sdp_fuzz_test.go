package sip

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	gosip "github.com/emiago/sipgo/sip"
)

// sdpSeeds are offers seen from real callers and the SIPp scenarios.
var sdpSeeds = []string{
	"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
	"v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 9\r\na=rtpmap:9 G722/8000\r\n",
	"v=0\r\no=- 2 2 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n",
	"v=0\r\no=- 3 3 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=video 5000 RTP/AVP 31\r\nm=audio 0 RTP/AVP 0\r\nm=audio 4002 RTP/SAVP 8\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\na=inactive\r\n",
	"v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n",
	"v=0\r\no=- 4 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	"this is junk",
}

// FuzzSDP runs an offer through everything the server does with one:
// ParseSDP, Negotiate, and marshalling the answer, which must parse again
// and say what was negotiated. Errors must be the package's sentinels.
func FuzzSDP(f *testing.F) {
	for _, s := range sdpSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		offer, err := ParseSDP(body)
		if err != nil {
			if !errors.Is(err, ErrMalformedSDP) && !errors.Is(err, ErrNoAudio) {
				t.Fatalf("ParseSDP error is not a sentinel: %v", err)
			}
			if c := statusFor(err).Code; c != 400 && c != 488 {
				t.Fatalf("ParseSDP error %v maps to %d", err, c)
			}
			return
		}
		if offer.Port < 1 || offer.Port > 65535 || !offer.Addr.IsValid() {
			t.Fatalf("offer at %v:%d", offer.Addr, offer.Port)
		}
		for _, fm := range offer.Formats {
			if fm.PayloadType > 127 {
				t.Fatalf("payload type %d", fm.PayloadType)
			}
		}
		codec, event, err := Negotiate(offer, []string{"PCMU", "PCMA"})
		if err != nil {
			if !errors.Is(err, ErrNoCommonCodec) || statusFor(err).Code != 488 {
				t.Fatalf("Negotiate: %v", err)
			}
			return
		}
		if codec.Name != "PCMU" && codec.Name != "PCMA" || codec.ClockRate != 8000 {
			t.Fatalf("negotiated %+v", codec)
		}
		local := LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: 30000, Formats: []Format{codec}, Direction: offer.Direction.Reverse()}
		if event != nil {
			local.Formats = append(local.Formats, *event)
		}
		answer, err := NewOrigin().Marshal(local, offer)
		if err != nil {
			t.Fatalf("answer to a valid offer not written: %v", err)
		}
		back, err := ParseSDP(answer)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, answer)
		}
		if back.Port != 30000 || back.Direction != local.Direction || len(back.Formats) != len(local.Formats) ||
			back.Formats[0].PayloadType != codec.PayloadType || !strings.EqualFold(back.Formats[0].Name, codec.Name) {
			t.Fatalf("answer says %+v, negotiated %+v\n%s", back, local, answer)
		}
		if n, m := len(back.desc.MediaDescriptions), len(offer.desc.MediaDescriptions); n != m {
			t.Fatalf("answer has %d m-lines, offer %d (RFC 3264 §6)", n, m)
		}
	})
}

// FuzzInfoDTMF checks the INFO body reader: a digit is only ever a DTMF
// key, and a well-formed dtmf-relay body always yields its key.
func FuzzInfoDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n")
	f.Add("application/dtmf-relay; charset=x", "signal = #\nduration=100")
	f.Add("application/dtmf", "*")
	f.Add("Application/DTMF", "d")
	f.Add("application/dtmf-relay", "Signal=10\r\n")
	f.Add("text/plain", "5")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, ct, body string) {
		req := gosip.NewRequest(gosip.INFO, gosip.Uri{Scheme: "sip", User: "ivr", Host: "127.0.0.1"})
		if ct != "" {
			req.AppendHeader(gosip.NewHeader("Content-Type", ct))
		}
		req.SetBody([]byte(body))
		d, ok := parseInfoDTMF(req)
		if ok && !strings.ContainsRune("0123456789*#ABCD", rune(d)) {
			t.Fatalf("digit %q from %q %q", d, ct, body)
		}
		if !ok && d != 0 {
			t.Fatalf("no digit but %q returned", d)
		}
	})
}
