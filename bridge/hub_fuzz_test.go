package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/supportline/ivr/store"
)

// hubTypes are the message types the hub may send a tab.
var hubTypes = map[string]bool{
	MsgHello: true, MsgState: true, MsgOffer: true, MsgOfferCancelled: true, MsgSDPOffer: true, MsgConnected: true,
	MsgDTMF: true, MsgCallEnded: true, MsgWrapUpSaved: true, MsgQueue: true, MsgCallbacks: true, MsgError: true,
}

// hubBarrier is a message the hub refuses with an error; its error is the
// sign that every message sent before it was handled (one reader per tab).
const hubBarrier = `{"type":"fuzz-barrier"}`

// fuzzHub is a bridge behind a real HTTP server with a real store, and one
// signed-in agent's WebSocket.
type fuzzHub struct {
	br *Bridge
	ws *websocket.Conn
	id int64
}

func newFuzzHub(f *testing.F) *fuzzHub {
	ctx := context.Background()
	st, err := store.Open(ctx, f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	if _, err := st.AddCallback(ctx, store.Callback{CallID: "c1", Phone: "+15550100", Reason: "agents closed"}); err != nil {
		f.Fatal(err)
	}
	br, err := New(Config{Store: st, Auth: NewAuth(st, WithAuthLogger(testLog())), Prompts: testPrompts(f), Log: testLog(),
		Leg:          LegConfig{HostIPs: []netip.Addr{testLoopback}, DisconnectedTimeout: time.Second},
		OfferTimeout: time.Minute, ConnectTimeout: 5 * time.Second, SessionCheck: time.Minute, AnnounceEvery: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(br.Handler())
	f.Cleanup(srv.Close)
	agent, err := st.AddAgent(ctx, "fuzz", harnessPassword)
	if err != nil {
		f.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	req, _ := http.NewRequest("POST", srv.URL+"/login", strings.NewReader(url.Values{"username": {"fuzz"}, "password": {harnessPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	resp, err := c.Do(req)
	if err != nil {
		f.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(srv.URL)
	hdr := http.Header{"Origin": {srv.URL}}
	for _, ck := range jar.Cookies(u) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		f.Fatalf("dial: %v", err)
	}
	f.Cleanup(func() { ws.CloseNow() })
	return &fuzzHub{br: br, ws: ws, id: agent.ID}
}

// exchange sends one message and reads the hub's messages up to the
// barrier's error, checking each.
func (h *fuzzHub) exchange(t *testing.T, data []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, m := range [][]byte{data, []byte(hubBarrier)} {
		if err := h.ws.Write(ctx, websocket.MessageText, m); err != nil {
			t.Fatalf("send: %v (the hub closed the socket?)", err)
		}
	}
	for {
		_, got, err := h.ws.Read(ctx)
		if err != nil {
			t.Fatalf("the hub did not answer the barrier: %v", err)
		}
		var m Msg
		if err := json.Unmarshal(got, &m); err != nil {
			t.Fatalf("the hub sent non-JSON %q", got)
		}
		if !hubTypes[m.Type] {
			t.Fatalf("the hub sent type %q: %s", m.Type, got)
		}
		if m.Type == MsgError && m.Message == "" {
			t.Fatalf("error without a message: %s", got)
		}
		if m.Type == MsgError && m.Reason == "closed" {
			t.Fatalf("the hub closed the tab: %s", got)
		}
		if m.Type == MsgError && strings.Contains(m.Message, `unknown type "fuzz-barrier"`) {
			return
		}
	}
}

// FuzzHub sends each input line as one WebSocket message from a signed-in
// agent's tab through the hub's real read loop (parseMsg, then handle) and
// checks what the hub sends back, then that the agent's state is one the
// queue knows.
func FuzzHub(f *testing.F) {
	for _, s := range []string{
		`{"type":"available"}`, `{"type":"away"}`, `{"type":"accept","call_id":"c1"}`, `{"type":"decline","call_id":"c1"}`,
		`{"type":"answer","call_id":"c1","sdp":"v=0\r\n"}`, `{"type":"hold","call_id":"c1"}`, `{"type":"unhold","call_id":"c1"}`,
		`{"type":"hangup","call_id":"c1"}`, `{"type":"wrapup","call_id":"c1","disposition":"resolved","notes":"paid"}`,
		`{"type":"callback_done","id":1}`, `{"type":"callback_done","id":99}`, `{"type":"state","state":"available"}`,
		"{\"type\":\"available\"}\n{\"type\":\"away\"}\n{\"type\":\"available\"}", `{"type":1}`, `[]`, `null`, `{`, "",
		`{"type":"accept","call_id":null}`, `{"type":"wrapup","call_id":"c1","disposition":"x"}`,
	} {
		f.Add([]byte(s))
	}
	h := newFuzzHub(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > msgLimit {
			return // the socket's read limit closes it (tested in ws_test)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			h.exchange(t, line)
		}
		if st := h.br.queue.State(h.id).String(); st == "" || st == "offline" {
			t.Fatalf("agent state %q with the tab open", st)
		}
		// Back to a known state for the next input.
		h.exchange(t, []byte(`{"type":"away"}`))
	})
}
