package bridge

import (
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/supportline/ivr/store"
)

//go:embed web/login.html
var loginHTML string

// loginPage is the login form; its data is loginData.
var loginPage = template.Must(template.New("login").Parse(loginHTML))

// loginData fills the login form: Error in #login-error after a failed
// attempt, Notice for why the agent is here (e.g. the session expired), Name
// to keep what was typed in the name field.
type loginData struct {
	Error, Notice, Name string
}

// Messages of the login page.
const (
	authMsgBadCredentials = "wrong name or password"
	authMsgDisabled       = "this agent account is disabled; ask your supervisor"
	authMsgTooMany        = "too many failed attempts; wait a minute and try again"
	authMsgUnavailable    = "sign-in is unavailable right now; try again shortly"
	authMsgExpired        = "your session expired; sign in again"
	authMsgRevoked        = "your agent account was disabled or removed"
)

// maxLoginBody bounds a login form.
const maxLoginBody = 8 << 10

// Register adds the login routes to mux: GET /login (the form), POST /login
// (form fields username and password; success sets the session cookie and
// redirects to /), POST /logout (ends the session, redirects to /login).
// Both POSTs must come from a page of this host (Origin, else Referer).
func (a *Auth) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", a.loginForm)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
}

func (a *Auth) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, err := a.Agent(r); err == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	d := loginData{}
	switch r.URL.Query().Get("m") {
	case "expired":
		d.Notice = authMsgExpired
	case "revoked":
		d.Notice = authMsgRevoked
	}
	a.renderLogin(w, http.StatusOK, d)
}

func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	if !authSameSite(r) {
		http.Error(w, "cross-site login refused", http.StatusForbidden)
		return
	}
	remote := authRemote(r)
	at, wait := a.loginAttempt(remote)
	if wait > 0 {
		a.log.Warn("bridge: login rate-limited", "remote", remote)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		a.renderLogin(w, http.StatusTooManyRequests, loginData{Error: authMsgTooMany})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad login form", http.StatusBadRequest)
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("username"))
	ag, err := a.st.CheckAgentPassword(r.Context(), name, r.PostForm.Get("password"))
	if err != nil {
		a.loginFailed(w, remote, at, name, err)
		return
	}
	a.loginNotFailed(remote, at)
	token, err := a.newSession(r.Context(), ag)
	if err != nil {
		a.log.Error("bridge: login", "agent", ag.Name, "err", err)
		a.renderLogin(w, http.StatusInternalServerError, loginData{Error: authMsgUnavailable, Name: name})
		return
	}
	a.setCookie(w, r, token)
	a.log.Info("bridge: agent signed in", "agent", ag.Name, "agent_id", ag.ID, "remote", remote)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// loginFailed answers a refused login: the same page for an unknown name and
// a wrong password.
func (a *Auth) loginFailed(w http.ResponseWriter, remote string, at time.Time, name string, err error) {
	d := loginData{Name: name}
	status := http.StatusUnauthorized
	switch {
	case errors.Is(err, store.ErrBadCredentials):
		d.Error = authMsgBadCredentials
	case errors.Is(err, store.ErrAgentDisabled):
		d.Error = authMsgDisabled
	default:
		a.loginNotFailed(remote, at)
		a.log.Error("bridge: login", "remote", remote, "err", err)
		a.renderLogin(w, http.StatusServiceUnavailable, loginData{Error: authMsgUnavailable, Name: name})
		return
	}
	a.log.Warn("bridge: login refused", "name", authLogName(name), "remote", remote, "reason", d.Error)
	a.renderLogin(w, status, d)
}

func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	if !authSameSite(r) {
		http.Error(w, "cross-site logout refused", http.StatusForbidden)
		return
	}
	if ag, ok := a.endSession(r); ok {
		a.log.Info("bridge: agent signed out", "agent", ag.Name, "agent_id", ag.ID)
	}
	a.setCookie(w, r, "")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// renderLogin writes the login page with security headers that keep it out
// of caches and frames.
func (a *Auth) renderLogin(w http.ResponseWriter, status int, d loginData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if err := loginPage.Execute(w, d); err != nil {
		a.log.Error("bridge: login page", "err", err)
	}
}

// signedOut answers a request RequireAgent refused.
func (a *Auth) signedOut(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, m := "signed_out", "not signed in", ""
	switch {
	case errors.Is(err, ErrSessionExpired):
		code, msg, m = "session_expired", authMsgExpired, "expired"
	case errors.Is(err, ErrAgentRevoked):
		code, msg, m = "agent_disabled", authMsgRevoked, "revoked"
	case !errors.Is(err, ErrNoSession):
		a.log.Error("bridge: session check", "err", err)
		authJSONError(w, http.StatusServiceUnavailable, "unavailable", "session check failed; try again shortly")
		return
	}
	if m != "" {
		a.setCookie(w, r, "")
	}
	if authAPIPath(r.URL.Path) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		authJSONError(w, http.StatusUnauthorized, code, msg)
		return
	}
	to := "/login"
	if m != "" {
		to += "?m=" + m
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// authAPIPath reports whether p is for scripts (API, WebSocket), not a page.
func authAPIPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || p == "/ws" || strings.HasPrefix(p, "/ws/")
}

func authJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "message": msg})
}

// loginAttempt counts a login attempt of remote as a failure before the
// password is checked, so that a burst of parallel attempts cannot pass the
// limit, and returns its time; or, when remote already has too many recent
// failures, how long it must wait.
func (a *Auth) loginAttempt(remote string) (at time.Time, wait time.Duration) {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	recent := a.recentFails(remote, now)
	if len(recent) >= a.maxFails {
		return time.Time{}, recent[len(recent)-a.maxFails].Add(a.failWindow).Sub(now)
	}
	if len(a.fails) > 10000 { // bound the map: forget quiet addresses
		for k := range a.fails {
			a.recentFails(k, now)
		}
	}
	a.fails[remote] = append(recent, now)
	return now, 0
}

// loginNotFailed takes back the attempt at of remote: the login succeeded,
// or failed for a reason not the caller's (the store was unavailable).
func (a *Auth) loginNotFailed(remote string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ts := a.fails[remote]
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].Equal(at) {
			ts = append(ts[:i:i], ts[i+1:]...)
			break
		}
	}
	if len(ts) == 0 {
		delete(a.fails, remote)
		return
	}
	a.fails[remote] = ts
}

// recentFails drops remote's failures older than the window and returns the
// rest; a.mu is held.
func (a *Auth) recentFails(remote string, now time.Time) []time.Time {
	ts := a.fails[remote]
	i := 0
	for i < len(ts) && !now.Before(ts[i].Add(a.failWindow)) {
		i++
	}
	if ts = ts[i:]; len(ts) == 0 {
		delete(a.fails, remote)
		return nil
	}
	a.fails[remote] = ts
	return ts
}

// authRemote is the address the request came from, without the port. A
// proxy's forwarding headers are not trusted.
func authRemote(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authLogName shortens a typed name for the log (it may be a mistyped password,
// so only its start is kept).
func authLogName(name string) string {
	if len(name) > 3 {
		return name[:3] + "…"
	}
	return name
}

// CheckOrigin reports whether r's Origin header is present, http or https,
// and names the host r was sent to (the Host header). The WebSocket upgrade
// and every state-changing request of the agent pages should pass it.
func CheckOrigin(r *http.Request) bool {
	return authSameHost(r.Header.Get("Origin"), r.Host)
}

// authSameSite reports whether a form POST comes from a page of this host: its
// Origin (when sent) or else its Referer names r.Host.
func authSameSite(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return authSameHost(o, r.Host)
	}
	return authSameHost(r.Header.Get("Referer"), r.Host)
}

// authSameHost reports whether raw is an absolute http(s) URL whose host
// (with port) is host.
func authSameHost(raw, host string) bool {
	if raw == "" || host == "" {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	return u.Host != "" && strings.EqualFold(u.Host, host)
}
