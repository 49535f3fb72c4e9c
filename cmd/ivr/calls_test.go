package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/store"
)

func TestCallsCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, time.June, 1, 9, 0, 0, 0, time.UTC)
	older := &store.CallRecord{ID: "older@host", From: "sip:+15550100@x", Start: t0, End: t0.Add(65 * time.Second),
		AccountNumber: "10001", Verified: true, Outcome: "completed", Intents: []string{"balance"},
		DTMF: []string{"****"}, Transcript: []store.Turn{
			{At: time.Second, Who: "bot", Text: "Welcome"},
			{At: 4 * time.Second, Who: "caller", Text: "balance", Confidence: 0.91, Intent: "balance", Input: "speech"},
		}}
	newer := &store.CallRecord{ID: "newer@host", From: "sip:anonymous@x", Start: t0.Add(time.Hour), Outcome: "agent",
		Handover: &store.Handover{Reason: store.HandoverAsked, At: 3 * time.Second}}
	for _, r := range []*store.CallRecord{older, newer} {
		if err := st.SaveCall(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name     string
		args     []string
		wantErr  string
		wantOut  []string
		checkOut func(t *testing.T, out string)
	}{
		{name: "list", args: []string{"calls", "list", "--data-dir", dir},
			checkOut: func(t *testing.T, out string) {
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if len(lines) != 3 || !strings.Contains(lines[1], "newer@host") || !strings.Contains(lines[1], "asked") ||
					!strings.Contains(lines[1], "in progress") || !strings.Contains(lines[2], "older@host") || !strings.Contains(lines[2], "1m5s") {
					t.Fatalf("list:\n%s", out)
				}
			}},
		{name: "list limit", args: []string{"calls", "list", "--data-dir", dir, "--limit", "1", "--json"},
			checkOut: func(t *testing.T, out string) {
				var recs []store.CallRecord
				if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs) != 1 || recs[0].ID != "newer@host" {
					t.Fatalf("JSON %q: %v", out, err)
				}
			}},
		{name: "show JSON (flag after the ID)", args: []string{"calls", "show", "older@host", "--json", "--data-dir", dir},
			checkOut: func(t *testing.T, out string) {
				var r store.CallRecord
				if err := json.Unmarshal([]byte(out), &r); err != nil || !reflect.DeepEqual(&r, older) {
					t.Fatalf("JSON %q: %+v, %v", out, r, err)
				}
			}},
		{name: "show text", args: []string{"calls", "show", "--data-dir", dir, "older@host"},
			wantOut: []string{"older@host", "10001 (verified: true)", "****", "Welcome", "caller  balance  [speech 0.91 → balance]"}},
		{name: "show unknown", args: []string{"calls", "show", "--data-dir", dir, "nope"}, wantErr: "not found"},
		{name: "show bad flag", args: []string{"calls", "show", "--data-dir", dir, "older@host", "--bogus"}, wantErr: "bogus"},
		{name: "list stray argument", args: []string{"calls", "list", "--data-dir", dir, "x"}, wantErr: "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runIVR(t, "", tt.args...)
			checkRun(t, out, errOut, err, tt.wantErr, tt.wantOut, tt.checkOut)
		})
	}
}

func TestCallsListEmpty(t *testing.T) {
	out, _, err := runIVR(t, "", "calls", "list", "--json", "--data-dir", t.TempDir())
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty list = %q, %v", out, err)
	}
}
