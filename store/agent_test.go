package store

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const agentPass = "correct horse 42"

func addAgent(t *testing.T, st *SQLite, name string) *Agent {
	t.Helper()
	a, err := st.AddAgent(context.Background(), name, agentPass)
	if err != nil {
		t.Fatalf("AddAgent(%s): %v", name, err)
	}
	return a
}

func TestAddAgent(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	addAgent(t, st, "alice")
	tests := []struct {
		name, agent, password string
		wantErr               error
	}{
		{"ok", "bob.smith@support", agentPass, nil},
		{"8 characters", "carol", "12345678", nil},
		{"8 characters, not bytes", "dave", "pässwörd", nil},
		{"duplicate", "alice", agentPass, ErrDuplicate},
		{"duplicate ignoring case", "ALICE", agentPass, ErrDuplicate},
		{"short password", "erin", "1234567", ErrInvalid},
		{"long password", "erin", strings.Repeat("x", MaxAgentPassword+1), ErrInvalid},
		{"not UTF-8", "erin", "abcdefgh\xff", ErrInvalid},
		{"empty name", "", agentPass, ErrInvalid},
		{"name with space", "erin x", agentPass, ErrInvalid},
		{"name starts with dot", ".erin", agentPass, ErrInvalid},
		{"name too long", strings.Repeat("e", 65), agentPass, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := st.AddAgent(ctx, tt.agent, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AddAgent(%q) err = %v; want %v", tt.agent, err, tt.wantErr)
			}
			if err == nil && (a.ID == 0 || a.Name != tt.agent || a.Disabled || a.CreatedAt.IsZero()) {
				t.Fatalf("AddAgent = %+v", a)
			}
			if err != nil && tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Fatalf("error %q contains the password", err)
			}
		})
	}
	var hash string
	if err := st.db.QueryRow(`SELECT password_hash FROM agents WHERE name = 'alice'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, agentPass) {
		t.Fatalf("stored %q: want an argon2id hash", hash)
	}
}

func TestCheckAgentPassword(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	alice := addAgent(t, st, "alice")
	addAgent(t, st, "off")
	if err := st.SetAgentDisabled(ctx, "off", true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, agent, password string
		wantErr               error
	}{
		{"right", "alice", agentPass, nil},
		{"name ignoring case", "Alice", agentPass, nil},
		{"wrong password", "alice", agentPass + "x", ErrBadCredentials},
		{"empty password", "alice", "", ErrBadCredentials},
		{"unknown name", "mallory", agentPass, ErrBadCredentials},
		{"empty name", "", agentPass, ErrBadCredentials},
		{"too long, right prefix", "alice", agentPass + strings.Repeat("y", 300), ErrBadCredentials},
		{"disabled, wrong password", "off", "nope-nope", ErrBadCredentials},
		{"disabled, right password", "off", agentPass, ErrAgentDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := st.CheckAgentPassword(ctx, tt.agent, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (a == nil || a.ID != alice.ID || a.Name != "alice") {
				t.Fatalf("agent = %+v; want alice", a)
			}
		})
	}
}

// TestCheckAgentPasswordSameWork: an unknown name costs one argon2id
// derivation and compare, as a wrong password does, and the error text is
// the same.
func TestCheckAgentPasswordSameWork(t *testing.T) {
	st := openTemp(t, WithPINHashCost(4096, 2))
	ctx := context.Background()
	addAgent(t, st, "alice")
	var compares atomic.Int32
	orig := pinCompare
	pinCompare = func(x, y []byte) int { compares.Add(1); return orig(x, y) }
	t.Cleanup(func() { pinCompare = orig })

	timeIt := func(name string) (time.Duration, string) {
		best, msg := time.Duration(1<<62), ""
		for range 5 {
			start := time.Now()
			_, err := st.CheckAgentPassword(ctx, name, "wrong password")
			best = min(best, time.Since(start))
			msg = err.Error()
		}
		return best, msg
	}
	wrong, wrongMsg := timeIt("alice")
	unknown, unknownMsg := timeIt("nobody")
	if compares.Load() != 10 {
		t.Errorf("%d constant-time compares for 10 checks: an unknown name skipped the hash", compares.Load())
	}
	if wrongMsg != unknownMsg {
		t.Errorf("messages differ: wrong password %q, unknown name %q", wrongMsg, unknownMsg)
	}
	// Both are one argon2id run at the same cost; allow for a busy machine.
	if unknown < wrong/3 || wrong < unknown/3 {
		t.Errorf("unknown name took %v, wrong password %v: not the same work", unknown, wrong)
	}
	t.Logf("fastest of 5: wrong password %v, unknown name %v", wrong, unknown)
}

func TestAgentAdmin(t *testing.T) {
	st := openTemp(t)
	ctx := context.Background()
	bob := addAgent(t, st, "bob")
	addAgent(t, st, "alice")

	list, err := st.ListAgents(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "alice" || list[1].Name != "bob" {
		t.Fatalf("ListAgents = %+v, %v; want alice, bob", list, err)
	}
	steps := []struct {
		name    string
		do      func() error
		wantErr error
		check   func(t *testing.T)
	}{
		{"disable", func() error { return st.SetAgentDisabled(ctx, "bob", true) }, nil, func(t *testing.T) {
			if a, err := st.AgentByID(ctx, bob.ID); err != nil || !a.Disabled {
				t.Fatalf("AgentByID = %+v, %v; want disabled", a, err)
			}
			if _, err := st.CheckAgentPassword(ctx, "bob", agentPass); !errors.Is(err, ErrAgentDisabled) {
				t.Fatalf("disabled login err = %v", err)
			}
		}},
		{"enable", func() error { return st.SetAgentDisabled(ctx, "BOB", false) }, nil, func(t *testing.T) {
			if _, err := st.CheckAgentPassword(ctx, "bob", agentPass); err != nil {
				t.Fatalf("enabled login: %v", err)
			}
		}},
		{"disable unknown", func() error { return st.SetAgentDisabled(ctx, "nobody", true) }, ErrNotFound, nil},
		{"remove", func() error { return st.RemoveAgent(ctx, "bob") }, nil, func(t *testing.T) {
			if _, err := st.AgentByID(ctx, bob.ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("AgentByID after remove: %v", err)
			}
			if _, err := st.AgentByName(ctx, "bob"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("AgentByName after remove: %v", err)
			}
			if _, err := st.CheckAgentPassword(ctx, "bob", agentPass); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("removed login err = %v", err)
			}
		}},
		{"remove again", func() error { return st.RemoveAgent(ctx, "bob") }, ErrNotFound, nil},
		{"add the name again", func() error { _, err := st.AddAgent(ctx, "bob", "another-pass"); return err }, nil, func(t *testing.T) {
			a, err := st.AgentByName(ctx, "bob")
			if err != nil || a.ID == bob.ID {
				t.Fatalf("re-added bob = %+v, %v; want a new ID", a, err)
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if err := s.do(); !errors.Is(err, s.wantErr) {
				t.Fatalf("err = %v; want %v", err, s.wantErr)
			}
			if s.check != nil {
				s.check(t)
			}
		})
	}
}

// TestAgentsSecondProcess: an agent added through one handle (`ivr agents`)
// is seen by another open on the same file (`ivr serve`).
func TestAgentsSecondProcess(t *testing.T) {
	dir := t.TempDir()
	serve, admin := openDir(t, dir), openDir(t, dir)
	ctx := context.Background()
	a := addAgent(t, admin, "alice")
	if got, err := serve.CheckAgentPassword(ctx, "alice", agentPass); err != nil || got.ID != a.ID {
		t.Fatalf("other handle: %+v, %v", got, err)
	}
	if err := admin.SetAgentDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if got, err := serve.AgentByID(ctx, a.ID); err != nil || !got.Disabled {
		t.Fatalf("other handle after disable: %+v, %v", got, err)
	}
}
