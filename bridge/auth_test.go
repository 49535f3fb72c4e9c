package bridge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportline/ivr/store"
)

const testPassword = "s3cret-pass-Q7"

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// authEnv is a real store with agents alice and bob, an Auth on a fake clock,
// and an HTTP server on loopback with the login routes and guarded pages.
type authEnv struct {
	st    *store.SQLite
	auth  *Auth
	clock *fakeClock
	srv   *httptest.Server
	logs  *bytes.Buffer
	logMu *sync.Mutex
}

// lockedWriter serialises log writes from concurrent handlers.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newAuthEnv(t *testing.T, tlsServer bool, opts ...AuthOption) *authEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.WithPINHashCost(64, 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, name := range []string{"alice", "bob"} {
		if _, err := st.AddAgent(ctx, name, testPassword); err != nil {
			t.Fatal(err)
		}
	}
	e := &authEnv{st: st, clock: &fakeClock{t: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)}, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	log := slog.New(slog.NewTextHandler(lockedWriter{e.logMu, e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.auth = NewAuth(st, append([]AuthOption{WithAuthClock(e.clock.Now), WithAuthLogger(log)}, opts...)...)
	mux := http.NewServeMux()
	e.auth.Register(mux)
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ag, ok := AgentFrom(r.Context())
		if !ok {
			http.Error(w, "no agent in context", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, ag.Name)
	})
	mux.Handle("GET /{$}", e.auth.RequireAgent(whoami))
	mux.Handle("/api/", e.auth.RequireAgent(whoami))
	mux.Handle("/ws", e.auth.RequireAgent(whoami))
	if tlsServer {
		e.srv = httptest.NewTLSServer(mux)
	} else {
		e.srv = httptest.NewServer(mux)
	}
	t.Cleanup(e.srv.Close)
	return e
}

// do sends one request without following redirects; origin "" sends none.
func (e *authEnv) do(t *testing.T, method, path, origin string, cookie *http.Cookie, form url.Values) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	client := *e.srv.Client() // a copy: CheckRedirect is per request here
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (e *authEnv) login(t *testing.T, name, password string) *http.Response {
	t.Helper()
	return e.do(t, "POST", "/login", e.srv.URL, nil, url.Values{"username": {name}, "password": {password}})
}

// mustLogin signs name in and returns the session cookie.
func (e *authEnv) mustLogin(t *testing.T, name string) *http.Cookie {
	t.Helper()
	resp := e.login(t, name, testPassword)
	c := sessionCookie(resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || c == nil || c.Value == "" {
		t.Fatalf("login %s: %d to %q, cookie %v", name, resp.StatusCode, resp.Header.Get("Location"), c)
	}
	return c
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// expect checks a response's status and, when not empty, its Location and a
// body substring.
func expect(t *testing.T, resp *http.Response, status int, location, bodyHas string) string {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != status || resp.Header.Get("Location") != location || !strings.Contains(body, bodyHas) {
		t.Fatalf("%s %s: %d to %q, body %q; want %d to %q with %q", resp.Request.Method, resp.Request.URL.Path,
			resp.StatusCode, resp.Header.Get("Location"), body, status, location, bodyHas)
	}
	return body
}

func TestLoginCookie(t *testing.T) {
	for _, tt := range []struct {
		name       string
		tls        bool
		opts       []AuthOption
		wantSecure bool
	}{
		{"plain HTTP", false, nil, false},
		{"TLS", true, nil, true},
		{"plain HTTP behind a TLS proxy", false, []AuthOption{WithSecureCookies(true)}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newAuthEnv(t, tt.tls, tt.opts...)
			page := expect(t, e.do(t, "GET", "/login", "", nil, nil), 200, "", `id="username"`)
			for _, id := range []string{`id="password"`, `id="login"`, `id="login-error"`, `action="/login"`} {
				if !strings.Contains(page, id) {
					t.Errorf("login page lacks %s", id)
				}
			}
			c := e.mustLogin(t, "alice")
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure != tt.wantSecure {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, Secure=%t", c, tt.wantSecure)
			}
			tok, err := base64.RawURLEncoding.DecodeString(c.Value)
			if err != nil || len(tok) != 32 {
				t.Fatalf("token %q: want 32 random bytes base64url", c.Value)
			}
			e.auth.mu.Lock()
			_, hashed := e.auth.sessions[sha256.Sum256(tok)]
			_, plain := e.auth.sessions[authHash(tok)]
			e.auth.mu.Unlock()
			if !hashed || plain {
				t.Errorf("server keeps the token's SHA-256: %t, the token itself: %t", hashed, plain)
			}
			expect(t, e.do(t, "GET", "/", "", c, nil), 200, "", "alice")
			expect(t, e.do(t, "GET", "/api/me", "", c, nil), 200, "", "alice")
			expect(t, e.do(t, "GET", "/login", "", c, nil), http.StatusSeeOther, "/", "")
		})
	}
}

func TestLoginRefusedSameForUnknownName(t *testing.T) {
	e := newAuthEnv(t, false)
	if err := e.st.SetAgentDisabled(context.Background(), "bob", true); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status int
		body   string
	}
	try := func(name, password string) result {
		resp := e.login(t, name, password)
		if c := sessionCookie(resp); c != nil {
			t.Errorf("login %q: cookie set on failure", name)
		}
		body := readBody(t, resp)
		return result{resp.StatusCode, strings.ReplaceAll(body, `value="`+name+`"`, `value="NAME"`)}
	}
	wrong := try("alice", "not-the-password")
	unknown := try("mallory", "not-the-password")
	if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, authMsgBadCredentials) {
		t.Fatalf("wrong password: %d %q", wrong.status, wrong.body)
	}
	if wrong != unknown {
		t.Fatalf("wrong password and unknown name answered differently:\n%d %s\n---\n%d %s", wrong.status, wrong.body, unknown.status, unknown.body)
	}
	if got := try("bob", "not-the-password"); got != wrong {
		t.Errorf("disabled agent with a wrong password answered differently: %d", got.status)
	}
	if got := try("bob", testPassword); got.status != http.StatusUnauthorized || !strings.Contains(got.body, "disabled") {
		t.Errorf("disabled agent, right password: %d %q", got.status, got.body)
	}
	if got := try("alice", ""); got.status != http.StatusUnauthorized {
		t.Errorf("empty password: %d", got.status)
	}
}

func TestLoginCSRF(t *testing.T) {
	e := newAuthEnv(t, false)
	form := url.Values{"username": {"alice"}, "password": {testPassword}}
	post := func(path string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		client := *e.srv.Client() // a copy: CheckRedirect is per request here
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for _, tt := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"same Origin", map[string]string{"Origin": e.srv.URL}, http.StatusSeeOther},
		{"same Referer, no Origin", map[string]string{"Referer": e.srv.URL + "/login"}, http.StatusSeeOther},
		{"no Origin, no Referer", nil, http.StatusForbidden},
		{"other Origin", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"other port", map[string]string{"Origin": "http://127.0.0.1:1"}, http.StatusForbidden},
		{"null Origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"Origin wins over Referer", map[string]string{"Origin": "http://evil.example", "Referer": e.srv.URL + "/login"}, http.StatusForbidden},
		{"other Referer", map[string]string{"Referer": "http://evil.example/" + host}, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/login", "/logout"} {
				resp := post(path, tt.hdr)
				if resp.StatusCode != tt.want {
					t.Errorf("POST %s: %d; want %d", path, resp.StatusCode, tt.want)
				}
			}
		})
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newAuthEnv(t, false, WithSessionTTL(time.Hour))
	c := e.mustLogin(t, "alice")
	// Sliding: each use within the hour keeps the session.
	for range 3 {
		e.clock.Advance(59 * time.Minute)
		expect(t, e.do(t, "GET", "/", "", c, nil), 200, "", "alice")
	}
	e.clock.Advance(time.Hour)
	resp := e.do(t, "GET", "/", "", c, nil)
	expect(t, resp, http.StatusSeeOther, "/login?m=expired", "")
	if gone := sessionCookie(resp); gone == nil || gone.MaxAge >= 0 {
		t.Errorf("expired session: cookie not cleared: %v", gone)
	}
	expect(t, e.do(t, "GET", "/login?m=expired", "", c, nil), 200, "", authMsgExpired)
	expect(t, e.do(t, "GET", "/api/me", "", c, nil), http.StatusUnauthorized, "", `"signed_out"`)
	if _, err := e.auth.Agent(httptest.NewRequest("GET", "/", nil)); err != ErrNoSession {
		t.Errorf("no cookie: %v", err)
	}
}

func TestExpiredSessionAPI(t *testing.T) {
	e := newAuthEnv(t, false, WithSessionTTL(time.Minute))
	c := e.mustLogin(t, "alice")
	e.clock.Advance(2 * time.Minute)
	body := expect(t, e.do(t, "GET", "/ws", "", c, nil), http.StatusUnauthorized, "", "")
	var msg map[string]string
	if err := json.Unmarshal([]byte(body), &msg); err != nil || msg["error"] != "session_expired" || msg["message"] == "" {
		t.Fatalf("401 body %q: want JSON error session_expired", body)
	}
}

func TestAgentRevoked(t *testing.T) {
	for _, tt := range []struct {
		name   string
		revoke func(st *store.SQLite) error
	}{
		{"disabled", func(st *store.SQLite) error { return st.SetAgentDisabled(context.Background(), "alice", true) }},
		{"removed", func(st *store.SQLite) error { return st.RemoveAgent(context.Background(), "alice") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newAuthEnv(t, false, WithAgentRecheck(2*time.Second))
			c1, c2 := e.mustLogin(t, "alice"), e.mustLogin(t, "alice")
			bob := e.mustLogin(t, "bob")
			if err := tt.revoke(e.st); err != nil {
				t.Fatal(err)
			}
			// Within the recheck interval the last look still counts…
			e.clock.Advance(time.Second)
			expect(t, e.do(t, "GET", "/api/me", "", c1, nil), 200, "", "alice")
			// …after it every session of alice ends, bob's stays.
			e.clock.Advance(2 * time.Second)
			expect(t, e.do(t, "GET", "/api/me", "", c1, nil), http.StatusUnauthorized, "", `"agent_disabled"`)
			expect(t, e.do(t, "GET", "/", "", c2, nil), http.StatusSeeOther, "/login", "")
			expect(t, e.do(t, "GET", "/", "", bob, nil), 200, "", "bob")
			if resp := e.login(t, "alice", testPassword); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("revoked agent logged in again: %d", resp.StatusCode)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	e := newAuthEnv(t, false)
	c, other := e.mustLogin(t, "alice"), e.mustLogin(t, "alice")
	expect(t, e.do(t, "POST", "/logout", "", c, url.Values{}), http.StatusForbidden, "", "")
	expect(t, e.do(t, "GET", "/", "", c, nil), 200, "", "alice")
	resp := e.do(t, "POST", "/logout", e.srv.URL, c, url.Values{})
	expect(t, resp, http.StatusSeeOther, "/login", "")
	if gone := sessionCookie(resp); gone == nil || gone.MaxAge >= 0 || gone.Value != "" {
		t.Errorf("logout cookie %v: want cleared", gone)
	}
	expect(t, e.do(t, "GET", "/", "", c, nil), http.StatusSeeOther, "/login", "")
	expect(t, e.do(t, "POST", "/api/x", "", c, url.Values{}), http.StatusUnauthorized, "", `"signed_out"`)
	expect(t, e.do(t, "GET", "/", "", other, nil), 200, "", "alice") // the other tab stays signed in
	// Logging out signed out is harmless.
	expect(t, e.do(t, "POST", "/logout", e.srv.URL, nil, url.Values{}), http.StatusSeeOther, "/login", "")
}

func TestRequireAgentSignedOut(t *testing.T) {
	e := newAuthEnv(t, false)
	bad := &http.Cookie{Name: SessionCookie, Value: base64.RawURLEncoding.EncodeToString(make([]byte, 32))}
	junk := &http.Cookie{Name: SessionCookie, Value: "not base64 !"}
	for _, tt := range []struct {
		method, path string
		cookie       *http.Cookie
		status       int
		location     string
	}{
		{"GET", "/", nil, http.StatusSeeOther, "/login"},
		{"GET", "/", bad, http.StatusSeeOther, "/login"},
		{"GET", "/", junk, http.StatusSeeOther, "/login"},
		{"HEAD", "/", nil, http.StatusSeeOther, "/login"},
		{"GET", "/api/me", nil, http.StatusUnauthorized, ""},
		{"GET", "/api/me", bad, http.StatusUnauthorized, ""},
		{"GET", "/ws", nil, http.StatusUnauthorized, ""},
		{"POST", "/api/wrapup", nil, http.StatusUnauthorized, ""},
		{"PUT", "/api/x", nil, http.StatusUnauthorized, ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp := e.do(t, tt.method, tt.path, "", tt.cookie, nil)
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
				t.Fatalf("%d to %q; want %d to %q", resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
			}
			if tt.status == http.StatusUnauthorized && resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("401 Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestCheckOrigin(t *testing.T) {
	for _, tt := range []struct {
		host, origin string
		want         bool
	}{
		{"127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"agents.example.com", "https://agents.example.com", true},
		{"Agents.Example.com", "https://agents.example.COM", true},
		{"127.0.0.1:8080", "", false},
		{"127.0.0.1:8080", "null", false},
		{"127.0.0.1:8080", "http://127.0.0.1:8081", false},
		{"127.0.0.1:8080", "http://127.0.0.1", false},
		{"127.0.0.1:8080", "http://localhost:8080", false},
		{"agents.example.com", "https://agents.example.com.evil.example", false},
		{"agents.example.com", "ftp://agents.example.com", false},
		{"agents.example.com", "agents.example.com", false},
		{"agents.example.com", "https://user@agents.example.com", false},
		{"agents.example.com", "https://%zz", false},
	} {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.Host = tt.host
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		if got := CheckOrigin(r); got != tt.want {
			t.Errorf("CheckOrigin(Host %q, Origin %q) = %t; want %t", tt.host, tt.origin, got, tt.want)
		}
	}
}

// TestAuthLogsNoSecrets runs the flows and reads the log: no password, no
// token.
func TestAuthLogsNoSecrets(t *testing.T) {
	e := newAuthEnv(t, false)
	c := e.mustLogin(t, "alice")
	e.login(t, "alice", "wrong-password-77")
	e.login(t, testPassword, testPassword) // a password typed into the name field
	e.do(t, "POST", "/logout", e.srv.URL, c, url.Values{})
	e.logMu.Lock()
	logs := e.logs.String()
	e.logMu.Unlock()
	for _, secret := range []string{testPassword, "wrong-password-77", c.Value} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"signed in", "login refused", "signed out"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
