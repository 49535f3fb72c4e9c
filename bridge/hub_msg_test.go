package bridge

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func TestParseMsg(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{`{"type":"available"}`, ""},
		{`{"type":"answer","call_id":"c1","sdp":"v=0"}`, ""},
		{`{"type":"wrapup","call_id":"c1","disposition":"resolved","notes":"ok"}`, ""},
		{`{"type":"callback_done","id":3}`, ""},
		{`not json`, "not JSON"},
		{`{}`, "no type"},
		{`{"type":"dance"}`, "unknown type"},
		{`{"type":"accept"}`, "needs call_id"},
		{`{"type":"answer","call_id":"c1"}`, "needs call_id and sdp"},
		{`{"type":"wrapup","call_id":"c1","disposition":"x"}`, "disposition"},
		{`{"type":"callback_done","id":-1}`, "needs id"},
		{`{"type":"hangup","call_id":"` + strings.Repeat("x", msgLimit) + `"}`, "larger than"},
	}
	for _, tt := range tests {
		_, err := parseMsg([]byte(tt.in))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%.60s: %v", tt.in, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errBadMsg)):
			t.Errorf("%.60s: got %v, want an errBadMsg with %q", tt.in, err, tt.wantErr)
		}
	}
}

func FuzzParseMsg(f *testing.F) {
	for _, s := range []string{`{"type":"available"}`, `{"type":"answer","call_id":"c","sdp":"v=0\r\n"}`,
		`{"type":"wrapup","call_id":"c","disposition":"resolved"}`, `{"type":1}`, `[]`, `null`, `{"type":"accept","call_id":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMsg(data)
		if err != nil {
			if !errors.Is(err, errBadMsg) {
				t.Fatalf("error not errBadMsg: %v", err)
			}
			return
		}
		if m.Type == "" {
			t.Fatal("accepted a message without a type")
		}
	})
}

func TestICEServersTURNCredentials(t *testing.T) {
	stun := webrtc.ICEServer{URLs: []string{"stun:turn.example:3478"}}
	turn := webrtc.ICEServer{URLs: []string{"turn:turn.example:3478?transport=udp"}}
	b := &Bridge{cfg: Config{Leg: LegConfig{ICEServers: []webrtc.ICEServer{stun, turn}}, TURNSecret: "s3cret"}}
	got := b.iceServers("ann", time.Hour)
	if got[0].Username != "" || got[0].Credential != nil {
		t.Fatalf("STUN server got credentials: %+v", got[0])
	}
	user, ok := got[1].Credential.(string)
	if !strings.HasSuffix(got[1].Username, ":ann") || !ok {
		t.Fatalf("TURN server: %+v", got[1])
	}
	expiry, _ := strconv.ParseInt(strings.TrimSuffix(got[1].Username, ":ann"), 10, 64)
	if _, want := TURNCredentials("s3cret", "ann", time.Unix(expiry, 0)); user != want {
		t.Fatalf("credential %q, want %q", user, want)
	}
	if b.cfg.Leg.ICEServers[1].Username != "" {
		t.Fatal("the configured servers were changed")
	}
	b.cfg.TURNSecret = ""
	if got := b.iceServers("ann", time.Hour); got[1].Username != "" {
		t.Fatalf("credentials without a secret: %+v", got[1])
	}
}
