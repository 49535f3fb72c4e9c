package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/supportline/ivr/bot"
	"github.com/supportline/ivr/softphone"
	"github.com/supportline/ivr/store"
)

// shutdownCall places the demo caller's call, which keys its PIN, waits for
// the bot to finish speaking and then listens for a minute. It returns once
// the call is in that last step; the call's result arrives on the channel.
func shutdownCall(t *testing.T, sipAddr string) (<-chan *softphone.Result, *eventLog) {
	t.Helper()
	sc := writeScript(t, "dtmf 2468#", "wait-silence 30", "wait 60")
	ev := &eventLog{listening: make(chan struct{})}
	res := make(chan *softphone.Result, 1)
	go func() {
		r, _ := softphone.Dial(context.Background(), softphone.Config{Target: "sip:ivr@" + sipAddr, From: "+15550100",
			RTPLow: 45000, RTPHigh: 45998}, sc, ev)
		res <- r
	}()
	select {
	case <-ev.listening:
	case r := <-res:
		t.Fatalf("call ended before it listened: %+v", r)
	case <-time.After(60 * time.Second):
		t.Fatal("the call never got to listening")
	}
	return res, ev
}

// eventLog keeps a call's softphone events; listening closes when the
// script reaches its last step.
type eventLog struct {
	mu        sync.Mutex
	events    []softphone.Event
	listening chan struct{}
}

func (l *eventLog) Event(e softphone.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	if e.Name == softphone.EvStep && e.Step == "wait 60" {
		close(l.listening)
	}
}

// audioAfter returns when the caller first heard audio after t (zero: never).
func (l *eventLog) audioAfter(t time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Name == softphone.EvAudioStart && e.At.After(t) {
			return e.At
		}
	}
	return time.Time{}
}

// healthz returns the status and body of serve's /healthz.
func healthz(t *testing.T, httpAddr string) (int, string) {
	t.Helper()
	res, err := http.Get("http://" + httpAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// storedRecords lists the call records with `ivr calls list --json`.
func storedRecords(t *testing.T, dir string) []store.CallRecord {
	t.Helper()
	var out bytes.Buffer
	if err := ivrApp(&out).Run([]string{"ivr", "calls", "list", "--json", "--data-dir", dir}); err != nil {
		t.Fatalf("calls list: %v", err)
	}
	var recs []store.CallRecord
	if err := json.Unmarshal(out.Bytes(), &recs); err != nil {
		t.Fatalf("calls list --json %q: %v", out.String(), err)
	}
	return recs
}

// checkIntegrity runs SQLite's integrity check on the store serve left.
func checkIntegrity(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("integrity check: %q, %v", res, err)
	}
}

// TestServeShutdownDrains sends SIGTERM to `ivr serve` while a verified
// caller is in the bot: /healthz says draining, a new call gets 503, the
// call in progress goes on for the drain time, then hears the shutdown
// goodbye and gets a BYE; serve returns, and the store holds the call's
// complete record (outcome shutdown) and passes SQLite's integrity check.
func TestServeShutdownDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("a call of about 15 s")
	}
	const drain = 3 * time.Second
	dir := t.TempDir()
	serve := startServe(t, dir, "--asr=false", "--drain-time", drain.String())
	res, ev := shutdownCall(t, serve.sip)

	t0 := time.Now()
	serve.signal(syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for code, body := healthz(t, serve.http); code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "draining 1 calls"); code, body = healthz(t, serve.http) {
		if time.Now().After(deadline) {
			t.Fatalf("/healthz %d %q, want 503 draining 1 calls", code, body)
		}
		<-time.After(20 * time.Millisecond) // bounded poll
	}
	sc := writeScript(t, "hangup")
	if r, err := softphone.Dial(context.Background(), softphone.Config{Target: "sip:ivr@" + serve.sip,
		From: "+15550100", RTPLow: 46000, RTPHigh: 46998}, sc, nil); err == nil || r.Code != 503 {
		t.Errorf("new call while draining: %+v, %v; want 503", r, err)
	}

	var r *softphone.Result
	select {
	case r = <-res:
	case <-time.After(drain + 30*time.Second):
		t.Fatal("the call was not ended after the drain time")
	}
	if r.HangupBy != "remote" {
		t.Errorf("call hung up by %q, want the server", r.HangupBy)
	}
	if heard := ev.audioAfter(t0); heard.IsZero() || heard.Sub(t0) < drain {
		t.Errorf("goodbye heard %v after SIGTERM, want after the %v drain time", heard.Sub(t0), drain)
	}
	serve.wait(30 * time.Second)
	if !strings.Contains(serve.out.String(), "draining: new calls get 503") ||
		!strings.Contains(serve.out.String(), "ending call: server shutting down") {
		t.Errorf("serve's log lacks the drain:\n%s", serve.out.String())
	}
	recs := storedRecords(t, dir)
	if len(recs) != 1 || recs[0].Outcome != bot.OutcomeShutdown || recs[0].End.IsZero() || !recs[0].Verified {
		t.Errorf("records %+v, want one verified call ended by the shutdown", recs)
	}
	checkIntegrity(t, dir)
}

// TestServeSecondSignalStopsNow: a second SIGTERM during the drain hangs
// the call up at once, without the goodbye, and serve returns.
func TestServeSecondSignalStopsNow(t *testing.T) {
	if testing.Short() {
		t.Skip("a call of about 10 s")
	}
	dir := t.TempDir()
	serve := startServe(t, dir, "--asr=false", "--drain-time", "1m")
	res, ev := shutdownCall(t, serve.sip)
	serve.signal(syscall.SIGTERM)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if code, _ := healthz(t, serve.http); code == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/healthz never said draining")
		}
		<-time.After(20 * time.Millisecond) // bounded poll
	}
	t0 := time.Now()
	serve.signal(syscall.SIGTERM)
	select {
	case r := <-res:
		if r.HangupBy != "remote" {
			t.Errorf("call hung up by %q, want the server", r.HangupBy)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the call was not hung up after the second signal")
	}
	if heard := ev.audioAfter(t0); !heard.IsZero() {
		t.Errorf("the caller heard audio %v after the second signal, want none", heard.Sub(t0))
	}
	serve.wait(30 * time.Second)
	if recs := storedRecords(t, dir); len(recs) != 1 || recs[0].Outcome != bot.OutcomeShutdown {
		t.Errorf("records %+v, want one call ended by the shutdown", recs)
	}
	checkIntegrity(t, dir)
}
