package bridge

import (
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// restarted is an Auth as a restarted server makes it: same store and
// clock, nothing in memory.
func (e *authEnv) restarted(opts ...AuthOption) *Auth {
	return NewAuth(e.st, append([]AuthOption{WithAuthClock(e.clock.Now), WithSessionStore(e.st)}, opts...)...)
}

// agentOf asks a for the agent of a request carrying cookie c.
func agentOf(a *Auth, c *http.Cookie) (string, error) {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	ag, err := a.Agent(r)
	if err != nil {
		return "", err
	}
	return ag.Name, nil
}

// TestSessionSurvivesRestart: with a SessionStore an agent stays signed in
// across a restart (only the token's hash is stored), the sliding expiry
// is kept, and sign-out, expiry and disabling hold across restarts too.
func TestSessionSurvivesRestart(t *testing.T) {
	e := newAuthEnv(t, false, WithSessionTTL(time.Hour))
	e.auth.saved = e.st // the env's Auth is the first process; its store is made in newAuthEnv
	alice, bob := e.mustLogin(t, "alice"), e.mustLogin(t, "bob")

	if name, err := agentOf(e.restarted(WithSessionTTL(time.Hour)), alice); err != nil || name != "alice" {
		t.Fatalf("after a restart: %q, %v; want alice still signed in", name, err)
	}
	if _, err := agentOf(NewAuth(e.st, WithAuthClock(e.clock.Now)), alice); !errors.Is(err, ErrNoSession) {
		t.Errorf("without a session store: %v, want ErrNoSession", err)
	}
	tok, _ := base64.RawURLEncoding.DecodeString(alice.Value)
	db, err := sql.Open("sqlite", e.st.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored []byte
	if err := db.QueryRow(`SELECT token_hash FROM agent_sessions WHERE agent_id = (SELECT id FROM agents WHERE name = 'alice')`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if h := sha256.Sum256(tok); string(stored) != string(h[:]) {
		t.Errorf("stored %x, want the token's SHA-256 and nothing else", stored)
	}

	// Sliding expiry: a use 50 minutes in moves the stored expiry, so the
	// session is good 100 minutes after sign-in on a server restarted since.
	e.clock.Advance(50 * time.Minute)
	expect(t, e.do(t, "GET", "/", "", alice, nil), 200, "", "alice")
	e.clock.Advance(50 * time.Minute)
	if name, err := agentOf(e.restarted(WithSessionTTL(time.Hour)), alice); err != nil || name != "alice" {
		t.Errorf("100 min after sign-in, 50 after the last use: %q, %v; want still signed in", name, err)
	}
	if _, err := agentOf(e.restarted(), bob); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("bob, idle 100 min with a 1 h lifetime: %v, want ErrSessionExpired", err)
	}
	if _, err := agentOf(e.restarted(), bob); !errors.Is(err, ErrNoSession) {
		t.Errorf("bob's expired session after it was found expired: %v, want it deleted (ErrNoSession)", err)
	}

	expect(t, e.do(t, "POST", "/logout", e.srv.URL, alice, url.Values{}), http.StatusSeeOther, "/login", "")
	if _, err := agentOf(e.restarted(), alice); !errors.Is(err, ErrNoSession) {
		t.Errorf("signed out, then a restart: %v, want ErrNoSession", err)
	}

	again := e.mustLogin(t, "alice")
	if err := e.st.SetAgentDisabled(t.Context(), "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := agentOf(e.restarted(), again); err == nil {
		t.Error("a disabled agent's session worked after a restart")
	}
}
