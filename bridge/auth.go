package bridge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/supportline/ivr/store"
)

// SessionCookie is the name of the agent's session cookie.
const SessionCookie = "ivr_session"

// Session errors returned by Auth.Agent.
var (
	// ErrNoSession: the request has no session cookie, or one this server
	// does not know (never issued, logged out, or issued before a restart).
	ErrNoSession = errors.New("not signed in")
	// ErrSessionExpired: the session was idle longer than its lifetime.
	ErrSessionExpired = errors.New("session expired")
	// ErrAgentRevoked: the session's agent was disabled or removed.
	ErrAgentRevoked = errors.New("agent disabled or removed")
)

// AgentStore is what Auth needs of the store: passwords checked at login,
// agents looked up again while their sessions are used.
type AgentStore interface {
	CheckAgentPassword(ctx context.Context, name, password string) (*store.Agent, error)
	AgentByID(ctx context.Context, id int64) (*store.Agent, error)
}

// SessionStore keeps sessions across restarts (WithSessionStore): only
// token hashes, so a copy of it holds nothing a cookie could be made from.
type SessionStore interface {
	SaveAgentSession(ctx context.Context, s store.AgentSession) error
	AgentSessionByHash(ctx context.Context, h [32]byte) (*store.AgentSession, error)
	DeleteAgentSession(ctx context.Context, h [32]byte) error
	DeleteAgentSessions(ctx context.Context, agentID int64, expiredBefore time.Time) (int64, error)
}

// Auth signs agents in and out and checks their sessions. Sessions live in
// memory and, with WithSessionStore, also in the store, so that a restart
// of the server does not sign agents out. Only the SHA-256 of each token is
// kept, so neither holds anything a cookie could be forged from. It is safe
// for concurrent use and starts no goroutines.
type Auth struct {
	st         AgentStore
	log        *slog.Logger
	now        func() time.Time
	ttl        time.Duration
	recheck    time.Duration
	secure     bool
	maxFails   int
	failWindow time.Duration
	saved      SessionStore // nil: sessions in memory only

	mu       sync.Mutex
	sessions map[authHash]*authSession
	fails    map[string][]time.Time // failed logins per remote address
}

// authHash is the SHA-256 of a session token.
type authHash [sha256.Size]byte

// authSession is one signed-in browser.
type authSession struct {
	agent   store.Agent // as last read from the store
	checked time.Time   // when agent was read
	expires time.Time   // slides forward on each use
	stored  time.Time   // expiry last written to the SessionStore
}

// sessionWriteEvery is how far a session's expiry must slide before it is
// written to the SessionStore again: one write per agent per minute at most,
// not one per request.
const sessionWriteEvery = time.Minute

// storeTimeout bounds each SessionStore call.
const storeTimeout = 2 * time.Second

// AuthOption configures NewAuth.
type AuthOption func(*Auth)

// WithSessionTTL sets how long a session lives without being used (default
// 12 h); each use extends it by as much.
func WithSessionTTL(d time.Duration) AuthOption { return func(a *Auth) { a.ttl = d } }

// WithSecureCookies marks the session cookie Secure even on plain HTTP
// requests (behind a TLS-terminating proxy). Under TLS it is always Secure.
func WithSecureCookies(on bool) AuthOption { return func(a *Auth) { a.secure = on } }

// WithLoginRateLimit sets how many failed logins a remote address may make
// within per before it gets 429 (default 5 per minute).
func WithLoginRateLimit(n int, per time.Duration) AuthOption {
	return func(a *Auth) { a.maxFails, a.failWindow = n, per }
}

// WithAgentRecheck sets how long a session trusts its last look at the agent
// before reading the store again (default 2 s): the longest a disabled or
// removed agent keeps a working session.
func WithAgentRecheck(d time.Duration) AuthOption { return func(a *Auth) { a.recheck = d } }

// WithAuthLogger sets the logger (default: discard). Passwords and tokens
// are never logged.
func WithAuthLogger(l *slog.Logger) AuthOption { return func(a *Auth) { a.log = l } }

// WithSessionStore keeps sessions in ss as well as in memory: agents stay
// signed in across restarts of the server.
func WithSessionStore(ss SessionStore) AuthOption { return func(a *Auth) { a.saved = ss } }

// WithAuthClock sets the clock for expiry and rate limiting (default
// time.Now).
func WithAuthClock(now func() time.Time) AuthOption { return func(a *Auth) { a.now = now } }

// NewAuth returns an Auth checking passwords and agents in st.
func NewAuth(st AgentStore, opts ...AuthOption) *Auth {
	a := &Auth{
		st: st, log: slog.New(slog.DiscardHandler), now: time.Now,
		ttl: 12 * time.Hour, recheck: 2 * time.Second, maxFails: 5, failWindow: time.Minute,
		sessions: map[authHash]*authSession{}, fails: map[string][]time.Time{},
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// newSession starts a session for ag and returns its token (the cookie
// value): 32 random bytes, base64url. Expired sessions are swept here.
func (a *Auth) newSession(ctx context.Context, ag *store.Agent) (string, error) {
	var tok [32]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return "", fmt.Errorf("bridge: session token: %w", err)
	}
	now := a.now()
	h := authHash(sha256.Sum256(tok[:]))
	s := &authSession{agent: *ag, checked: now, expires: now.Add(a.ttl), stored: now.Add(a.ttl)}
	if err := a.storeSession(ctx, h, s.agent.ID, s.expires, now); err != nil {
		return "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, s := range a.sessions {
		if !now.Before(s.expires) {
			delete(a.sessions, h)
		}
	}
	a.sessions[h] = s
	return base64.RawURLEncoding.EncodeToString(tok[:]), nil
}

// storeSession writes a new session to the SessionStore, after sweeping the
// expired ones there. Without a store it does nothing.
func (a *Auth) storeSession(ctx context.Context, h authHash, agentID int64, expires, now time.Time) error {
	if a.saved == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if _, err := a.saved.DeleteAgentSessions(ctx, 0, now); err != nil {
		a.log.Warn("bridge: sweeping expired sessions failed", "error", err)
	}
	if err := a.saved.SaveAgentSession(ctx, store.AgentSession{TokenHash: h, AgentID: agentID, Expires: expires}); err != nil {
		return fmt.Errorf("bridge: save session: %w", err)
	}
	return nil
}

// authSessionOf returns the hash of r's session token, if r carries a
// well-formed one.
func authSessionOf(r *http.Request) (authHash, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return authHash{}, false
	}
	tok, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(tok) != 32 {
		return authHash{}, false
	}
	return sha256.Sum256(tok), true
}

// Agent returns the signed-in agent of r: the session cookie must name a
// live session (ErrNoSession, ErrSessionExpired) whose agent still exists
// and is not disabled (ErrAgentRevoked; the store is read again when the
// last look is older than the recheck interval). Each successful call
// extends the session.
func (a *Auth) Agent(r *http.Request) (*store.Agent, error) {
	h, ok := authSessionOf(r)
	if !ok {
		return nil, ErrNoSession
	}
	now := a.now()
	a.mu.Lock()
	s := a.sessions[h]
	if s == nil {
		a.mu.Unlock()
		return a.restoreSession(r.Context(), h, now)
	}
	if !now.Before(s.expires) {
		delete(a.sessions, h)
		a.mu.Unlock()
		a.forgetStored(r.Context(), h)
		return nil, ErrSessionExpired
	}
	s.expires = now.Add(a.ttl)
	ag, fresh := s.agent, now.Sub(s.checked) < a.recheck
	write := a.saved != nil && s.expires.Sub(s.stored) >= sessionWriteEvery
	if write {
		s.stored = s.expires
	}
	exp := s.expires
	a.mu.Unlock()
	if write {
		a.touchStored(r.Context(), h, ag.ID, exp)
	}
	if fresh {
		return &ag, nil
	}
	return a.recheckAgent(r.Context(), h, ag.ID, now)
}

// restoreSession finds a session this process does not hold in the
// SessionStore (issued before a restart) and takes it back into memory
// once its agent is checked.
func (a *Auth) restoreSession(ctx context.Context, h authHash, now time.Time) (*store.Agent, error) {
	if a.saved == nil {
		return nil, ErrNoSession
	}
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	st, err := a.saved.AgentSessionByHash(sctx, h)
	cancel()
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("bridge: look up session: %w", err)
	}
	if !now.Before(st.Expires) {
		a.forgetStored(ctx, h)
		return nil, ErrSessionExpired
	}
	ag, err := a.st.AgentByID(ctx, st.AgentID)
	if errors.Is(err, store.ErrNotFound) || err == nil && ag.Disabled {
		a.forgetStored(ctx, h)
		return nil, ErrAgentRevoked
	}
	if err != nil {
		return nil, fmt.Errorf("bridge: check agent %d: %w", st.AgentID, err)
	}
	s := &authSession{agent: *ag, checked: now, expires: now.Add(a.ttl), stored: st.Expires}
	a.mu.Lock()
	if cur := a.sessions[h]; cur != nil { // restored meanwhile by another request
		s = cur
	} else {
		a.sessions[h] = s
	}
	out := s.agent
	a.mu.Unlock()
	a.log.Info("bridge: session restored from the store", "agent_id", out.ID)
	return &out, nil
}

// touchStored writes a session's moved expiry to the SessionStore; a failed
// write is logged and the session goes on (it is in memory).
func (a *Auth) touchStored(ctx context.Context, h authHash, agentID int64, expires time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := a.saved.SaveAgentSession(ctx, store.AgentSession{TokenHash: h, AgentID: agentID, Expires: expires}); err != nil {
		a.log.Warn("bridge: saving the session's expiry failed", "agent_id", agentID, "error", err)
	}
}

// forgetStored deletes a session from the SessionStore, if there is one.
func (a *Auth) forgetStored(ctx context.Context, h authHash) {
	if a.saved == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := a.saved.DeleteAgentSession(ctx, h); err != nil {
		a.log.Warn("bridge: deleting a session failed", "error", err)
	}
}

// recheckAgent reads the session's agent from the store again; a disabled or
// removed agent loses every session.
func (a *Auth) recheckAgent(ctx context.Context, h authHash, id int64, now time.Time) (*store.Agent, error) {
	ag, err := a.st.AgentByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && ag.Disabled {
		if n := a.EndSessions(id); n > 0 {
			a.log.Info("bridge: agent disabled or removed, sessions ended", "agent_id", id, "sessions", n)
		}
		return nil, ErrAgentRevoked
	}
	if err != nil {
		return nil, fmt.Errorf("bridge: check agent %d: %w", id, err)
	}
	a.mu.Lock()
	if s := a.sessions[h]; s != nil {
		s.agent, s.checked = *ag, now
	}
	a.mu.Unlock()
	return ag, nil
}

// EndSessions signs the agent id out of every browser and returns how many
// sessions ended.
func (a *Auth) EndSessions(id int64) int {
	a.mu.Lock()
	n := 0
	for h, s := range a.sessions {
		if s.agent.ID == id {
			delete(a.sessions, h)
			n++
		}
	}
	a.mu.Unlock()
	if a.saved != nil {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if _, err := a.saved.DeleteAgentSessions(ctx, id, time.Time{}); err != nil {
			a.log.Warn("bridge: deleting the agent's stored sessions failed", "agent_id", id, "error", err)
		}
	}
	return n
}

// endSession forgets r's session, if any.
func (a *Auth) endSession(r *http.Request) (store.Agent, bool) {
	h, ok := authSessionOf(r)
	if !ok {
		return store.Agent{}, false
	}
	a.forgetStored(r.Context(), h)
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[h]
	if s == nil {
		return store.Agent{}, false
	}
	delete(a.sessions, h)
	return s.agent, true
}

// setCookie sets (or, with an empty token, clears) the session cookie. It has
// no expiry: the browser keeps it until closed, the server decides how long
// it is good for.
func (a *Auth) setCookie(w http.ResponseWriter, r *http.Request, token string) {
	c := &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.secure || r.TLS != nil,
	}
	if token == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// authAgentKey is the context key of the agent RequireAgent found.
type authAgentKey struct{}

// AgentFrom returns the agent RequireAgent put in the request context.
func AgentFrom(ctx context.Context) (*store.Agent, bool) {
	ag, ok := ctx.Value(authAgentKey{}).(*store.Agent)
	return ag, ok && ag != nil
}

// RequireAgent wraps h so that only signed-in agents reach it, with the agent
// in the request context (AgentFrom). A signed-out browser asking for a page
// (GET or HEAD outside /api/ and /ws) is redirected to /login; API and
// WebSocket requests, and other methods, get 401 with a JSON body
// {"error": code, "message": text}, code one of "signed_out",
// "session_expired", "agent_disabled".
func (a *Auth) RequireAgent(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ag, err := a.Agent(r)
		if err != nil {
			a.signedOut(w, r, err)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authAgentKey{}, ag)))
	})
}
