package store

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

const sipPass = "wonderland-77"

func TestAddSIPUser(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	if _, err := st.AddSIPUser(ctx, "alice", "ivr", sipPass); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, realm, password string
		wantErr                     error
	}{
		{"ok", "bob+desk", "ivr", sipPass, nil},
		{"duplicate", "alice", "ivr", sipPass, ErrDuplicate},
		{"short password", "carol", "ivr", "short-pass", ErrInvalid},
		{"long password", "carol", "ivr", strings.Repeat("x", MaxSIPPassword+1), ErrInvalid},
		{"name with quote", `ca"rol`, "ivr", sipPass, ErrInvalid},
		{"empty name", "", "ivr", sipPass, ErrInvalid},
		{"realm with quote", "carol", `i"vr`, sipPass, ErrInvalid},
		{"empty realm", "carol", "", sipPass, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.AddSIPUser(ctx, tt.user, tt.realm, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestSIPUserDigestHA1(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	if _, err := st.AddSIPUser(ctx, "alice", "ivr", sipPass); err != nil {
		t.Fatal(err)
	}
	md := md5.Sum([]byte("alice:ivr:" + sipPass))
	sh := sha256.Sum256([]byte("alice:ivr:" + sipPass))
	tests := []struct {
		name, user, realm string
		sha               bool
		want              string
		ok                bool
	}{
		{"md5", "alice", "ivr", false, hex.EncodeToString(md[:]), true},
		{"sha-256", "alice", "ivr", true, hex.EncodeToString(sh[:]), true},
		{"unknown", "bob", "ivr", false, "", false},
		{"other realm", "alice", "other", false, "", false},
		{"case matters", "ALICE", "ivr", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := st.DigestHA1(ctx, tt.user, tt.realm, tt.sha)
			if err != nil || got != tt.want || ok != tt.ok {
				t.Errorf("DigestHA1 = %q, %v, %v; want %q, %v", got, ok, err, tt.want, tt.ok)
			}
		})
	}
	// The password is nowhere in the database file's table.
	var n int
	if err := st.db.QueryRowContext(ctx, `SELECT count(*) FROM sip_users WHERE ha1_md5 LIKE ? OR ha1_sha256 LIKE ?`,
		"%"+sipPass+"%", "%"+sipPass+"%").Scan(&n); err != nil || n != 0 {
		t.Errorf("password stored: %d rows, %v", n, err)
	}
	if err := st.SetSIPUserDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.DigestHA1(ctx, "alice", "ivr", false); ok {
		t.Error("disabled user still has a hash")
	}
	us, err := st.ListSIPUsers(ctx)
	if err != nil || len(us) != 1 || !us[0].Disabled || us[0].Realm != "ivr" {
		t.Errorf("list %+v, %v", us, err)
	}
	if err := st.SetSIPUserDisabled(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.DigestHA1(ctx, "alice", "ivr", false); !ok {
		t.Error("enabled again: no hash")
	}
	if err := st.RemoveSIPUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{st.RemoveSIPUser(ctx, "alice"), st.SetSIPUserDisabled(ctx, "alice", true)} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("after remove: %v, want ErrNotFound", err)
		}
	}
}
