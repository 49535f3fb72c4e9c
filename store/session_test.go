package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"
)

// TestAgentSessions: a stored session survives reopening the database,
// moves its expiry on save, goes on sign-out, when its agent is disabled
// or removed, and when expired sessions are swept.
func TestAgentSessions(t *testing.T) {
	dir := t.TempDir()
	st := openDir(t, dir)
	ctx := context.Background()
	bob, ann := addAgent(t, st, "bob"), addAgent(t, st, "ann")
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	bob1, bob2, ann1 := sha256.Sum256([]byte("b1")), sha256.Sum256([]byte("b2")), sha256.Sum256([]byte("a1"))
	for _, s := range []AgentSession{{bob1, bob.ID, now.Add(time.Hour)}, {bob2, bob.ID, now.Add(time.Hour)}, {ann1, ann.ID, now.Add(-time.Minute)}} {
		if err := st.SaveAgentSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SaveAgentSession(ctx, AgentSession{sha256.Sum256([]byte("x")), 999, now}); err == nil {
		t.Error("a session of an agent that does not exist was stored")
	}
	if err := st.SaveAgentSession(ctx, AgentSession{bob1, bob.ID, now.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = openDir(t, dir) // a restart
	got, err := st.AgentSessionByHash(ctx, bob1)
	if err != nil || got.AgentID != bob.ID || !got.Expires.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("after reopening: %+v, %v; want bob's session with the moved expiry", got, err)
	}
	if err := st.DeleteAgentSession(ctx, bob1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AgentSessionByHash(ctx, bob1); !errors.Is(err, ErrNotFound) {
		t.Errorf("signed-out session: %v, want ErrNotFound", err)
	}
	if n, err := st.DeleteAgentSessions(ctx, 0, now); err != nil || n != 1 {
		t.Errorf("sweep of expired sessions deleted %d, %v; want ann's 1", n, err)
	}
	if err := st.SetAgentDisabled(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AgentSessionByHash(ctx, bob2); !errors.Is(err, ErrNotFound) {
		t.Errorf("session of a disabled agent: %v, want ErrNotFound", err)
	}
	if err := st.SaveAgentSession(ctx, AgentSession{ann1, ann.ID, now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveAgent(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AgentSessionByHash(ctx, ann1); !errors.Is(err, ErrNotFound) {
		t.Errorf("session of a removed agent: %v, want ErrNotFound", err)
	}
}
