package bridge

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoginRateLimit(t *testing.T) {
	e := newAuthEnv(t, false, WithLoginRateLimit(5, time.Minute))
	for i := range 5 {
		e.clock.Advance(time.Second)
		if resp := e.login(t, "alice", "wrong-"+string(rune('a'+i))); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	// Blocked now, even with the right password, and the page says so.
	resp := e.login(t, "alice", testPassword)
	body := expect(t, resp, http.StatusTooManyRequests, "", authMsgTooMany)
	if sessionCookie(resp) != nil || resp.Header.Get("Retry-After") != "56" {
		t.Fatalf("429: cookie %v, Retry-After %q, body %q", sessionCookie(resp), resp.Header.Get("Retry-After"), body)
	}
	// Another address is not blocked.
	req := httptest.NewRequest("POST", "http://agents.test/login", strings.NewReader("username=alice&password="+url.QueryEscape(testPassword)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://agents.test")
	req.RemoteAddr = "192.0.2.7:40000"
	rec := httptest.NewRecorder()
	e.auth.login(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("other address: %d", rec.Code)
	}
	// Once the oldest failure is a minute old, one more try is allowed.
	e.clock.Advance(56 * time.Second)
	e.mustLogin(t, "alice")
}

func TestAuthConcurrent(t *testing.T) {
	e := newAuthEnv(t, false, WithAgentRecheck(0))
	c := e.mustLogin(t, "alice")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 10 {
				if i%2 == 0 {
					if resp := e.login(t, "bob", testPassword); resp.StatusCode != http.StatusSeeOther {
						t.Errorf("login bob: %d", resp.StatusCode)
					}
					continue
				}
				r := httptest.NewRequest("GET", "/", nil)
				r.AddCookie(c)
				if ag, err := e.auth.Agent(r); err != nil || ag.Name != "alice" {
					t.Errorf("Agent = %v, %v", ag, err)
				}
			}
		})
	}
	wg.Wait()
	if n := e.auth.EndSessions(2); n != 40 {
		t.Errorf("EndSessions(bob) = %d; want 40", n)
	}
}

// TestLoginRateLimitBurst: parallel wrong attempts from one address cannot
// all pass before the first failures are counted; a success does not count.
func TestLoginRateLimitBurst(t *testing.T) {
	e := newAuthEnv(t, false, WithLoginRateLimit(5, time.Minute))
	for range 3 {
		e.mustLogin(t, "alice")
	}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp := e.login(t, "alice", "wrong-password")
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[http.StatusUnauthorized] != 5 || codes[http.StatusTooManyRequests] != 15 {
		t.Fatalf("20 parallel wrong attempts after 3 good logins: %v; want 5 × 401, 15 × 429", codes)
	}
}
