package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/store"
)

// secretPassword is a password no other output would contain by chance.
const secretPassword = "tr0ub4dor&3 horse"

func TestAgentsCommands(t *testing.T) {
	dir := t.TempDir()
	// `ivr serve` has the database open all along.
	serve, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer serve.Close()
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(secretPassword+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantErr  string
		wantOut  []string
		checkOut func(t *testing.T, out string)
	}{
		{name: "add from file", args: []string{"agents", "add", "--data-dir", dir, "--password-file", pwFile, "alice"},
			wantOut: []string{"added agent alice"}},
		{name: "add from stdin, flags after the name", stdin: secretPassword + "\n",
			args: []string{"agents", "add", "bob", "--data-dir", dir, "--json"},
			checkOut: func(t *testing.T, out string) {
				var a store.Agent
				if err := json.Unmarshal([]byte(out), &a); err != nil || a.Name != "bob" || a.ID == 0 || a.Disabled {
					t.Fatalf("JSON %q: %+v, %v", out, a, err)
				}
			}},
		{name: "add from stdin via -", stdin: secretPassword, args: []string{"agents", "add", "--data-dir", dir, "--password-file", "-", "carol"},
			wantOut: []string{"added agent carol"}},
		{name: "add duplicate", stdin: secretPassword, args: []string{"agents", "add", "--data-dir", dir, "Alice"}, wantErr: "already exists"},
		{name: "add short password", stdin: "1234567\n", args: []string{"agents", "add", "--data-dir", dir, "dave"},
			wantErr: "has 7 characters; at least 8"},
		{name: "add no password", stdin: "", args: []string{"agents", "add", "--data-dir", dir, "dave"}, wantErr: "no password given"},
		{name: "add missing file", args: []string{"agents", "add", "--data-dir", dir, "--password-file", filepath.Join(dir, "nope"), "dave"},
			wantErr: "--password-file"},
		{name: "add bad name", stdin: secretPassword, args: []string{"agents", "add", "--data-dir", dir, "da ve"}, wantErr: "invalid input"},
		{name: "add two names", stdin: secretPassword, args: []string{"agents", "add", "--data-dir", dir, "dave", "eve"}, wantErr: "want one"},
		{name: "add bad name chars", stdin: secretPassword, args: []string{"agents", "add", "--data-dir", dir, "da/ve"}, wantErr: "invalid input"},
		{name: "add no name", stdin: secretPassword, args: []string{"agents", "add", "--data-dir", dir}, wantErr: "want an agent NAME"},
		{name: "disable", args: []string{"agents", "disable", "--data-dir", dir, "bob"}, wantOut: []string{"disabled agent bob"}},
		{name: "list", args: []string{"agents", "list", "--data-dir", dir},
			checkOut: func(t *testing.T, out string) {
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[1], "alice") ||
					!strings.Contains(lines[1], "active") || !strings.Contains(lines[2], "bob") || !strings.Contains(lines[2], "disabled") {
					t.Fatalf("list:\n%s", out)
				}
			}},
		{name: "enable", args: []string{"agents", "enable", "bob", "--data-dir", dir}, wantOut: []string{"enabled agent bob"}},
		{name: "remove", args: []string{"agents", "remove", "--data-dir", dir, "carol"}, wantOut: []string{"removed agent carol"}},
		{name: "remove unknown", args: []string{"agents", "remove", "--data-dir", dir, "carol"}, wantErr: "not found"},
		{name: "disable unknown", args: []string{"agents", "disable", "--data-dir", dir, "zed"}, wantErr: "not found"},
		{name: "list JSON", args: []string{"agents", "list", "--data-dir", dir, "--json"},
			checkOut: func(t *testing.T, out string) {
				var as []store.Agent
				if err := json.Unmarshal([]byte(out), &as); err != nil || len(as) != 2 || as[0].Name != "alice" || as[1].Disabled {
					t.Fatalf("JSON %q: %+v, %v", out, as, err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runIVR(t, tt.stdin, tt.args...)
			for _, s := range []string{out, errOut, errString(err)} {
				if strings.Contains(s, secretPassword) || strings.Contains(s, "$argon2") {
					t.Fatalf("output contains the password or its hash: %q", s)
				}
			}
			checkRun(t, out, errOut, err, tt.wantErr, tt.wantOut, tt.checkOut)
		})
	}
	// The running server's handle sees the passwords (file without its CRLF,
	// stdin without its newline) and the states.
	ctx := context.Background()
	for _, name := range []string{"alice", "bob"} {
		if _, err := serve.CheckAgentPassword(ctx, name, secretPassword); err != nil {
			t.Errorf("login %s: %v", name, err)
		}
	}
	if _, err := serve.CheckAgentPassword(ctx, "carol", secretPassword); !errors.Is(err, store.ErrBadCredentials) {
		t.Errorf("removed carol: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestCallsShowWrapUp: the agent's wrap-up is in `ivr calls show`, text and JSON.
func TestCallsShowWrapUp(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC)
	if err := st.SaveCall(ctx, &store.CallRecord{ID: "w@host", Start: at.Add(-time.Minute), Outcome: "agent"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveWrapUp(ctx, "w@host", store.WrapUp{Agent: "alice", Disposition: "resolved", Notes: "promised\na refund", At: at}); err != nil {
		t.Fatal(err)
	}
	out, _, err := runIVR(t, "", "calls", "show", "w@host", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "resolved by alice") || !strings.Contains(out, "promised a refund") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	out, _, err = runIVR(t, "", "calls", "show", "w@host", "--json", "--data-dir", dir)
	var rec store.CallRecord
	if err != nil || json.Unmarshal([]byte(out), &rec) != nil || rec.WrapUp == nil || rec.WrapUp.Notes != "promised\na refund" ||
		!rec.WrapUp.At.Equal(at) {
		t.Fatalf("show --json: %v\n%s", err, out)
	}
}
