package main

import (
	"testing"
)

func TestICEServer(t *testing.T) {
	tests := []struct {
		in       string
		url      string
		user     string
		password string
		wantErr  bool
	}{
		{"stun:stun.example:3478", "stun:stun.example:3478", "", "", false},
		{"turn:agent:s3cret@turn.example:3478", "turn:turn.example:3478", "agent", "s3cret", false},
		{"turn:turn.example:3478?transport=udp", "turn:turn.example:3478?transport=udp", "", "", false},
		{"http://example", "", "", "", true},
		{"stun:", "", "", "", true},
	}
	for _, tt := range tests {
		s, err := iceServer(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: error %v", tt.in, err)
			continue
		}
		if err != nil {
			continue
		}
		pw, _ := s.Credential.(string)
		if s.URLs[0] != tt.url || s.Username != tt.user || pw != tt.password {
			t.Errorf("%s: got %+v", tt.in, s)
		}
	}
	if got := splitList(" a, ,b "); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("splitList: %q", got)
	}
}
