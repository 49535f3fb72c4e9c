package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/sip"
	"github.com/supportline/ivr/softphone"
)

// TestServeSIPAccessControl runs `ivr serve --sip-trunks 127.0.0.1` with a
// user of `ivr sipusers` and calls it from 127.0.0.2: refused without
// credentials, answered with them; the user registers.
func TestServeSIPAccessControl(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ivr serve")
	}
	dir := t.TempDir()
	if _, _, err := runIVR(t, secretPassword+"\n", "sipusers", "add", "--data-dir", dir, "alice"); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	serveIn(t, addr, "--data-dir", dir, "--asr=false", "--flow", "menu",
		"--sip-addr", addr, "--http-addr", "127.0.0.1:0", "--rtp-ports", "46000-46998", "--log-level", "warn",
		"--sip-trunks", "127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := softphone.Config{Target: "sip:ivr@" + addr, From: "alice", Local: "127.0.0.2:0",
		RTPLow: 47000, RTPHigh: 47998, Duration: 500 * time.Millisecond}
	tests := []struct {
		name, password string
		want           int
	}{
		{"no credentials", "", 401},
		{"wrong password", "not the password", 403},
		{"softphone user", secretPassword, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			c.AuthPassword = tt.password
			_, err := softphone.Dial(ctx, c, nil, nil)
			var se *sip.StatusError
			switch {
			case tt.want == 0 && err != nil:
				t.Fatalf("call: %v", err)
			case tt.want != 0 && (!errors.As(err, &se) || se.Code != tt.want):
				t.Fatalf("call: %v, want %d", err, tt.want)
			}
		})
	}
	cfg.AuthPassword = secretPassword
	if got, err := softphone.Register(ctx, cfg, 10*time.Minute); err != nil || got != 10*time.Minute {
		t.Errorf("register: %v, %v", got, err)
	}
}

func TestServeSIPFlagErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--sip-trunks", "example.com"}, `sip trunk "example.com"`},
		{[]string{"--sip-rate", "0"}, "sip rate"},
		{[]string{"--sip-calls-per-source", "0"}, "calls per source"},
	}
	for _, tt := range tests {
		t.Run(tt.wantErr, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"ivr", "serve", "--data-dir", t.TempDir(), "--asr=false", "--sip-addr", "127.0.0.1:0",
				"--http-addr", "127.0.0.1:0", "--log-level", "error"}, tt.args...)
			err := ivrApp(&out).Run(args)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
