package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/internal/testcert"
	"github.com/supportline/ivr/softphone"
	"github.com/supportline/ivr/store"
)

// TestServeTLSSRTPBalanceCall runs `ivr serve --sip-tls-addr ... --srtp
// required` with the bot and the demo accounts; the demo caller calls over
// TLS with SRTP, keys its PIN and 1 (RFC 4733 events inside SRTP), and
// hears its balance.
func TestServeTLSSRTPBalanceCall(t *testing.T) {
	if testing.Short() {
		t.Skip("a call of about 10 s")
	}
	start := time.Now()
	dir := t.TempDir()
	pki := testcert.New(t, "serve")
	tlsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	serveIn(t, tlsAddr, "--data-dir", dir, "--demo-accounts", "--asr=false",
		"--sip-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--rtp-ports", "44000-44998", "--ring-time", "0",
		"--sip-tls-addr", tlsAddr, "--sip-tls-cert", pki.Cert, "--sip-tls-key", pki.Key, "--srtp", "required",
		"--log-level", "warn")
	t.Logf("serve listening on TLS after %v", time.Since(start).Round(time.Millisecond))

	script := filepath.Join(t.TempDir(), "balance.txt")
	if err := os.WriteFile(script, []byte("dtmf 2468#1\nwait-silence 30\nhangup\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := softphone.ParseScript(script)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := softphone.Dial(ctx, softphone.Config{Target: "sip:ivr@" + tlsAddr + ";transport=tls", TLSCA: pki.CA,
		SRTP: true, From: "+15550100", RTPLow: 45000, RTPHigh: 45998}, sc, nil)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	t.Logf("call over after %v: %d turns, hangup by %s", time.Since(start).Round(time.Millisecond), len(res.Turns), res.HangupBy)
	if res.SRTP == "" || res.Stats.PacketsReceived < 100 || res.Stats.SRTPAuthFailures != 0 {
		t.Errorf("srtp %q, received %d, auth failures %d", res.SRTP, res.Stats.PacketsReceived, res.Stats.SRTPAuthFailures)
	}

	var rec store.CallRecord
	for deadline := time.Now().Add(10 * time.Second); ; { // stored as the call ends on the server's side
		var out bytes.Buffer
		if err := ivrApp(&out).Run([]string{"ivr", "calls", "list", "--json", "--data-dir", dir}); err != nil {
			t.Fatalf("calls list: %v", err)
		}
		var recs []store.CallRecord
		if err := json.Unmarshal(out.Bytes(), &recs); err != nil {
			t.Fatalf("calls list --json %q: %v", out.String(), err)
		}
		if len(recs) == 1 && !recs[0].End.IsZero() {
			out.Reset()
			if err := ivrApp(&out).Run([]string{"ivr", "calls", "show", recs[0].ID, "--json", "--data-dir", dir}); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ended call in %s", out.String())
		}
		<-time.After(100 * time.Millisecond) // bounded poll
	}
	var said strings.Builder
	for _, tu := range rec.Transcript {
		said.WriteString(tu.Text + "\n")
	}
	if !rec.Verified || !strings.Contains(said.String(), "Your balance is three hundred twenty one dollars and nine cents") {
		t.Errorf("verified %v; the bot said:\n%s", rec.Verified, said.String())
	}
}

// TestServeSRTPFlagErrors: a bad --srtp value from the flag, the
// environment or the config file stops serve with an error naming it.
func TestServeSRTPFlagErrors(t *testing.T) {
	yaml := filepath.Join(t.TempDir(), "ivr.yaml")
	if err := os.WriteFile(yaml, []byte("srtp: sometimes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  string
	}{
		{"flag", []string{"--srtp", "sometimes"}, ""},
		{"env", nil, "sometimes"},
		{"yaml", []string{"--config", yaml}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("IVR_SRTP", tt.env)
			}
			var out bytes.Buffer
			args := append([]string{"ivr", "serve", "--data-dir", t.TempDir(), "--asr=false"}, tt.args...)
			err := ivrApp(&out).Run(args)
			if err == nil || !strings.Contains(err.Error(), "--srtp") || !strings.Contains(err.Error(), "sometimes") {
				t.Errorf("serve: %v, want an --srtp error", err)
			}
		})
	}
}
