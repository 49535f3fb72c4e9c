package softphone

import (
	"errors"
	"testing"

	"github.com/supportline/ivr/sip"
)

func TestTransportOf(t *testing.T) {
	tests := []struct{ configured, target, want string }{
		{"", "sip:ivr@127.0.0.1:5060", "udp"},
		{"", "sip:ivr@127.0.0.1:5061;transport=tls", "tls"},
		{"", "sip:ivr@127.0.0.1:5061;transport=TLS", "tls"},
		{"", "sips:ivr@127.0.0.1:5061", "tls"},
		{"TCP", "sip:ivr@127.0.0.1", "tcp"},
		{"tls", "127.0.0.1:5061", "tls"},
	}
	for _, tt := range tests {
		if got := transportOf(tt.configured, tt.target); got != tt.want {
			t.Errorf("transportOf(%q, %q) = %q, want %q", tt.configured, tt.target, got, tt.want)
		}
	}
	if _, err := phoneConfig(Config{Transport: "udp", TLSCA: "ca.pem"}); !errors.Is(err, ErrConfig) {
		t.Errorf("a CA file without tls: %v", err)
	}
	if _, err := phoneConfig(Config{Transport: "tls", TLSCA: "/nonexistent/ca.pem"}); !errors.Is(err, ErrConfig) {
		t.Errorf("a missing CA file: %v", err)
	}
}

// TestAnswerSRTP: an SRTP offer answered in the clear (or with a crypto
// line we did not offer) fails the call rather than send plain audio.
func TestAnswerSRTP(t *testing.T) {
	sdp := func(proto, crypto string) *sip.Media {
		body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 " + proto + " 0\r\n"
		if crypto != "" {
			body += "a=crypto:" + crypto + "\r\n"
		}
		m, err := sip.ParseSDP([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	offered, err := sip.NewCryptoOffer()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := sip.NewCryptoOffer()
	good := other[1]
	good.Tag = offered[1].Tag
	tests := []struct {
		name    string
		offered []sip.Crypto
		answer  *sip.Media
		ok      bool
	}{
		{"plain to plain", nil, sdp("RTP/AVP", ""), true},
		{"savp to plain", nil, sdp("RTP/SAVP", good.String()), false},
		{"plain to savp", offered, sdp("RTP/AVP", ""), false},
		{"no crypto", offered, sdp("RTP/SAVP", ""), false},
		{"tag not offered", offered, sdp("RTP/SAVP", "9 AES_CM_128_HMAC_SHA1_32 inline:"+good.String()[len("2 AES_CM_128_HMAC_SHA1_32 inline:"):]), false},
		{"echoed key", offered, sdp("RTP/SAVP", offered[0].String()), false},
		{"good", offered, sdp("RTP/SAVP", good.String()), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &callRun{offered: tt.offered, r: &Result{}}
			crypto, err := c.answerSRTP(tt.answer)
			if tt.ok != (err == nil) {
				t.Fatalf("err %v", err)
			}
			if err != nil && !errors.Is(err, ErrBadAnswer) {
				t.Errorf("err %v, want ErrBadAnswer", err)
			}
			if tt.ok && (crypto != nil) != (tt.offered != nil) {
				t.Errorf("crypto %v for offer %v", crypto, tt.offered)
			}
		})
	}
}
