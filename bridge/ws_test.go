package bridge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestWSBadMessagesLoseNothing(t *testing.T) {
	checkLeaks(t)
	h := newHarness(t, 5*time.Second)
	ann := h.open(h.addAgent("ann"))
	for _, bad := range []string{"not json", `{"type":"dance"}`, `{}`, `{"type":"accept"}`,
		`{"type":"wrapup","call_id":"x","disposition":"bribed"}`, `{"type":"hangup","call_id":"nope"}`} {
		ann.send(bad)
		if m := ann.expect(MsgError); m.Message == "" {
			t.Fatalf("%s: error without a message", bad)
		}
	}
	ann.available() // the socket still works
}

func TestWSSecondTabTakesOver(t *testing.T) {
	checkLeaks(t)
	h := newHarness(t, 5*time.Second)
	c := h.addAgent("ann")
	first := h.open(c)
	first.available()
	h.handoff(t.Context(), "c1", newFakeCall(nil))
	first.expect(MsgOffer)
	second := h.open(c)
	if m := second.expect(MsgOffer); m.CallID != "c1" {
		t.Fatalf("the new tab did not ring: %+v", m)
	}
	m := first.expect(MsgError)
	if !strings.Contains(m.Message, "another tab") {
		t.Fatalf("first tab told %q", m.Message)
	}
	<-first.done
	if code := websocket.CloseStatus(first.closed); code != closeReplaced {
		t.Fatalf("first tab closed with %v", first.closed)
	}
	second.send(Msg{Type: MsgDecline, CallID: "c1"})
	second.send(Msg{Type: MsgAway})
	for m := second.expect(MsgState); m.State != "away"; m = second.expect(MsgState) {
	}
	if st := h.br.Queue().State(1); st != StateAway {
		t.Fatalf("agent state %v after the first tab closed", st)
	}
}

func TestWSSessionEndCloses(t *testing.T) {
	checkLeaks(t)
	h := newHarness(t, 5*time.Second)
	c := h.addAgent("ann")
	ann := h.open(c)
	req, _ := http.NewRequest("POST", h.srv.URL+"/logout", nil)
	req.Header.Set("Origin", h.srv.URL)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	m := ann.expect(MsgError)
	if !strings.Contains(m.Message, "sign in again") {
		t.Fatalf("told %q", m.Message)
	}
	<-ann.done
	if code := websocket.CloseStatus(ann.closed); code != closeExpired {
		t.Fatalf("closed with %v", ann.closed)
	}
}

func TestWSRefusesStrangers(t *testing.T) {
	checkLeaks(t)
	h := newHarness(t, 5*time.Second)
	c := h.addAgent("ann")
	url := "ws" + strings.TrimPrefix(h.srv.URL, "http") + "/ws"
	tests := []struct {
		name   string
		hdr    http.Header
		status int
	}{
		{"no cookie", http.Header{"Origin": {h.srv.URL}}, http.StatusUnauthorized},
		{"other origin", cookieHeader(h, c, "http://evil.example"), http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: tt.hdr})
			if err == nil || resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("dial: %v, response %v, want %d", err, resp, tt.status)
			}
		})
	}
	resp, err := http.Get(h.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("signed-out / went to %s", resp.Request.URL)
	}
}

func cookieHeader(h *harness, c *http.Client, origin string) http.Header {
	hdr := http.Header{"Origin": {origin}}
	u := h.srv.URL
	req, _ := http.NewRequest("GET", u, nil)
	for _, ck := range c.Jar.Cookies(req.URL) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	return hdr
}
