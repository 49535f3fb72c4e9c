package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/bot"
	"github.com/supportline/ivr/softphone"
	"github.com/supportline/ivr/store"
)

// ivrApp is the ivr command line; its commands print to out.
func ivrApp(out *bytes.Buffer) *cli.App {
	return &cli.App{
		Name:           "ivr",
		Commands:       []*cli.Command{serveCommand(), callsCommand(), accountsCommand()},
		Writer:         out,
		ErrWriter:      out,
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serveProc is `ivr serve` running in-process for a test.
type serveProc struct {
	t         *testing.T
	sip, http string
	served    chan error
	out       bytes.Buffer // serve's output; read only after it returned
	done      bool
}

// startServe runs `ivr serve --demo-accounts` in-process on free loopback
// ports with dir as its data directory, and waits until it listens. It is
// stopped at cleanup (SIGINT, serve's first signal: graceful shutdown).
func startServe(t *testing.T, dir string, args ...string) *serveProc {
	t.Helper()
	sipAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	httpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	p := serveIn(t, sipAddr, append([]string{"--data-dir", dir, "--demo-accounts", "--sip-addr", sipAddr,
		"--http-addr", httpAddr, "--rtp-ports", "44000-44998", "--ring-time", "0"}, args...)...)
	p.sip, p.http = sipAddr, httpAddr
	return p
}

// serveIn runs `ivr serve args...` in-process and waits until a TCP
// listener takes connections at waitAddr (the SIP or SIP-over-TLS address).
// It is stopped at cleanup (SIGINT).
func serveIn(t *testing.T, waitAddr string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{t: t, served: make(chan error, 1)}
	go func() { p.served <- ivrApp(&p.out).Run(append([]string{"ivr", "serve"}, args...)) }()
	// Start-up decodes every prompt: under -race on a busy 2-core machine
	// that took over 20 s, so the bound is generous (it is not a timing check).
	for deadline := time.Now().Add(90 * time.Second); ; {
		if c, err := net.Dial("tcp", waitAddr); err == nil {
			c.Close()
			break
		}
		select {
		case err := <-p.served:
			t.Fatalf("serve ended: %v\n%s", err, p.out.String())
		case <-time.After(50 * time.Millisecond): // bounded poll for the listener
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve is not listening on %s", waitAddr)
		}
	}
	t.Cleanup(p.stop)
	return p
}

// signal sends sig to this process, where serve's handler takes it (serve
// is listening, so its handler is set).
func (p *serveProc) signal(sig syscall.Signal) {
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		p.t.Error(err)
	}
}

// wait waits up to d for serve to return and checks it returned nil.
func (p *serveProc) wait(d time.Duration) {
	if p.done {
		return
	}
	select {
	case err := <-p.served:
		p.done = true
		if err != nil {
			p.t.Errorf("serve: %v\n%s", err, p.out.String())
		}
	case <-time.After(d):
		p.t.Errorf("serve did not return within %v", d)
	}
}

// stop ends serve with SIGINT unless it has returned already.
func (p *serveProc) stop() {
	if p.done {
		return
	}
	p.signal(syscall.SIGINT)
	p.wait(60 * time.Second)
}

// TestServePaymentCall runs `ivr serve --demo-accounts --asr=false`, places
// a keypad payment call with the softphone from the demo account's number,
// and checks `ivr calls show ID --json` (read while serve runs) and the
// store: one payment, its ID in the record, the PIN masked, and all 8
// digits of the confirmation number said.
func TestServePaymentCall(t *testing.T) {
	if testing.Short() {
		t.Skip("a call of about 12 s")
	}
	dir := t.TempDir()
	serve := startServe(t, dir, "--asr=false", "--log-level", "warn")
	sip := serve.sip

	script := filepath.Join(t.TempDir(), "pay.txt")
	if err := os.WriteFile(script, []byte("dtmf 2468#311\nwait-silence 30\nhangup\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The call is placed in-process with the softphone `ivr call` runs (its
	// action would set sipgo's global logger under the running server).
	sc, err := softphone.ParseScript(script)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := softphone.Dial(ctx, softphone.Config{Target: "sip:ivr@" + sip, From: "+15550100",
		RTPLow: 45000, RTPHigh: 45998}, sc, nil)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	t.Logf("call: hangup by %s", res.HangupBy)

	// The record is stored as the call ends on the server's side.
	var id string
	for deadline := time.Now().Add(10 * time.Second); id == ""; {
		var out bytes.Buffer
		if err := ivrApp(&out).Run([]string{"ivr", "calls", "list", "--json", "--data-dir", dir}); err != nil {
			t.Fatalf("calls list: %v", err)
		}
		var recs []store.CallRecord
		if err := json.Unmarshal(out.Bytes(), &recs); err != nil {
			t.Fatalf("calls list --json %q: %v", out.String(), err)
		}
		if len(recs) == 1 && !recs[0].End.IsZero() {
			id = recs[0].ID
		} else if time.Now().After(deadline) {
			t.Fatalf("no ended call in %s", out.String())
		} else {
			<-time.After(100 * time.Millisecond) // bounded poll
		}
	}
	var out bytes.Buffer
	if err := ivrApp(&out).Run([]string{"ivr", "calls", "show", id, "--json", "--data-dir", dir}); err != nil {
		t.Fatalf("calls show: %v", err)
	}
	var rec store.CallRecord
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatalf("calls show --json %q: %v", out.String(), err)
	}
	if rec.Outcome != bot.OutcomeCallerHangup || !rec.Verified || rec.AccountNumber != "10001" || rec.Handover != nil {
		t.Errorf("record %s", out.String())
	}
	if got := strings.Join(rec.DTMF, ","); got != "****#,3,1,1" {
		t.Errorf("DTMF %q, want the PIN masked", got)
	}
	var said strings.Builder
	for _, tu := range rec.Transcript {
		if tu.Who == bot.WhoBot {
			said.WriteString(tu.Text + "\n")
		}
		if strings.Contains(tu.Text, "2468") || strings.Contains(tu.Text, "two four six eight") {
			t.Errorf("PIN in the transcript: %+v", tu)
		}
	}

	acct, ps, err := testAccount(t, dir) // while serve runs
	if err != nil || len(ps) != 1 {
		t.Fatalf("payments %+v, %v; want 1", ps, err)
	}
	p := ps[0]
	if len(rec.Payments) != 1 || rec.Payments[0] != p.ID || p.Amount.Minor != 5410 || p.CardLast4 != "4242" ||
		acct.Balance.Minor != 32109-5410 {
		t.Errorf("record payments %v, store %+v, balance %v", rec.Payments, p, acct.Balance)
	}
	words := [10]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	var code []string
	for _, c := range p.Confirmation {
		if c < '0' || c > '9' {
			t.Fatalf("confirmation %q: want digits", p.Confirmation)
		}
		code = append(code, words[c-'0'])
	}
	if want := "Your confirmation number is " + strings.Join(code, " "); len(code) != 8 || !strings.Contains(said.String(), want) {
		t.Errorf("the bot did not say %q; it said:\n%s", want, said.String())
	}
	serve.stop()
}

func TestServeDecoders(t *testing.T) {
	ncpu := runtime.NumCPU()
	for _, tc := range []struct{ flag, maxCalls, want int }{
		{0, 500, asr.DecodersPerCPU * ncpu},
		{0, 3, 3 + ncpu},
		{5, 3, 5},
		{40, 500, 40},
	} {
		if got := serveDecoders(tc.flag, tc.maxCalls); got != tc.want {
			t.Errorf("serveDecoders(%d, %d) = %d, want %d", tc.flag, tc.maxCalls, got, tc.want)
		}
	}
}
