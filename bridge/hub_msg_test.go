package bridge

import (
	"errors"
	"strings"
	"testing"
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
