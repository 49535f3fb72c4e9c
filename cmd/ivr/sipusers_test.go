package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/supportline/ivr/store"
)

func TestSIPUsersCommands(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantErr  string
		wantOut  []string
		checkOut func(t *testing.T, out string)
	}{
		{name: "add", stdin: secretPassword + "\n", args: []string{"sipusers", "add", "--data-dir", dir, "alice"},
			wantOut: []string{"added SIP user alice (realm ivr)"}},
		{name: "add other realm, JSON", stdin: secretPassword, args: []string{"sipusers", "add", "--data-dir", dir, "--realm", "pbx", "--json", "desk-1"},
			checkOut: func(t *testing.T, out string) {
				var u store.SIPUser
				if err := json.Unmarshal([]byte(out), &u); err != nil || u.Name != "desk-1" || u.Realm != "pbx" {
					t.Fatalf("JSON %q: %+v, %v", out, u, err)
				}
			}},
		{name: "add duplicate", stdin: secretPassword, args: []string{"sipusers", "add", "--data-dir", dir, "alice"}, wantErr: "already exists"},
		{name: "add short password", stdin: "eleven-char\n", args: []string{"sipusers", "add", "--data-dir", dir, "bob"},
			wantErr: "has 11 characters; at least 12"},
		{name: "add bad name", stdin: secretPassword, args: []string{"sipusers", "add", "--data-dir", dir, "bo b"}, wantErr: "invalid input"},
		{name: "add no name", stdin: secretPassword, args: []string{"sipusers", "add", "--data-dir", dir}, wantErr: "want a SIP user NAME"},
		{name: "disable", args: []string{"sipusers", "disable", "--data-dir", dir, "alice"}, wantOut: []string{"disabled SIP user alice"}},
		{name: "list", args: []string{"sipusers", "list", "--data-dir", dir},
			checkOut: func(t *testing.T, out string) {
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if len(lines) != 3 || !strings.Contains(lines[1], "alice") || !strings.Contains(lines[1], "disabled") ||
					!strings.Contains(lines[2], "desk-1") || !strings.Contains(lines[2], "pbx") {
					t.Fatalf("list:\n%s", out)
				}
			}},
		{name: "enable", args: []string{"sipusers", "enable", "--data-dir", dir, "alice"}, wantOut: []string{"enabled SIP user alice"}},
		{name: "remove", args: []string{"sipusers", "remove", "--data-dir", dir, "desk-1"}, wantOut: []string{"removed SIP user desk-1"}},
		{name: "remove unknown", args: []string{"sipusers", "remove", "--data-dir", dir, "desk-1"}, wantErr: "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runIVR(t, tt.stdin, tt.args...)
			if strings.Contains(out+errOut, secretPassword) {
				t.Fatalf("output shows the password:\n%s%s", out, errOut)
			}
			checkRun(t, out, errOut, err, tt.wantErr, tt.wantOut, tt.checkOut)
		})
	}
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sum := md5.Sum([]byte("alice:ivr:" + secretPassword))
	if ha1, ok, err := st.DigestHA1(context.Background(), "alice", "ivr", false); !ok || err != nil || ha1 != hex.EncodeToString(sum[:]) {
		t.Errorf("stored HA1 %q, %v, %v", ha1, ok, err)
	}
}
