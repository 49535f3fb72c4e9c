package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/store"
)

const harnessPassword = "correct horse battery"

// harness is a bridge behind a real HTTP server with a real store and
// real sign-in.
type harness struct {
	t   *testing.T
	st  *store.SQLite
	br  *Bridge
	srv *httptest.Server
}

func newHarness(t *testing.T, offerTimeout time.Duration) *harness {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat := testPrompts(t)
	log := testLog()
	br, err := New(Config{
		Store: st, Auth: NewAuth(st, WithAuthLogger(log)), Prompts: cat, Log: log,
		Leg:          LegConfig{HostIPs: []netip.Addr{testLoopback}, DisconnectedTimeout: time.Second},
		OfferTimeout: offerTimeout, ConnectTimeout: 5 * time.Second, SessionCheck: 100 * time.Millisecond,
		AnnounceEvery: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(br.Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, st: st, br: br, srv: srv}
}

// tab is one agent's browser tab: a signed-in HTTP client and its
// WebSocket.
type tab struct {
	t      *testing.T
	h      *harness
	client *http.Client
	ws     *websocket.Conn
	msgs   chan Msg
	done   chan struct{}
	stop   chan struct{} // closed at cleanup: the reader stops waiting on msgs
	mu     sync.Mutex
	closed error // why the socket closed
}

// addAgent creates an agent and signs it in.
func (h *harness) addAgent(name string) *http.Client {
	h.t.Helper()
	if _, err := h.st.AddAgent(h.t.Context(), name, harnessPassword); err != nil {
		h.t.Fatal(err)
	}
	return h.login(name)
}

func (h *harness) login(name string) *http.Client {
	h.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	req, _ := http.NewRequest("POST", h.srv.URL+"/login", strings.NewReader(url.Values{"username": {name}, "password": {harnessPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.srv.URL)
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/" || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("login %s: ended at %s with %d", name, resp.Request.URL, resp.StatusCode)
	}
	return c
}

// open opens a tab (WebSocket) for a signed-in client.
func (h *harness) open(c *http.Client) *tab {
	h.t.Helper()
	u, _ := url.Parse(h.srv.URL)
	hdr := http.Header{"Origin": {h.srv.URL}}
	for _, ck := range c.Jar.Cookies(u) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ws, _, err := websocket.Dial(h.t.Context(), "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/ws", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	tb := &tab{t: h.t, h: h, client: c, ws: ws, msgs: make(chan Msg, 256), done: make(chan struct{}), stop: make(chan struct{})}
	go tb.read()
	h.t.Cleanup(func() { close(tb.stop); ws.CloseNow(); <-tb.done })
	tb.expect(MsgHello)
	return tb
}

func (tb *tab) read() {
	defer close(tb.done)
	for {
		_, data, err := tb.ws.Read(context.Background())
		if err != nil {
			tb.mu.Lock()
			tb.closed = err
			tb.mu.Unlock()
			return
		}
		var m Msg
		if err := json.Unmarshal(data, &m); err != nil {
			tb.t.Errorf("bad message from the hub: %s", data)
			continue
		}
		// A tab nobody reads (many agents in a load run) keeps draining its
		// socket, as a browser does: queue and callback snapshots are
		// dropped once half the buffer waits (a newer one follows).
		if (m.Type == MsgQueue || m.Type == MsgCallbacks) && len(tb.msgs) > cap(tb.msgs)/2 {
			continue
		}
		select {
		case tb.msgs <- m:
		case <-tb.stop:
			return
		}
	}
}

func (tb *tab) send(m any) {
	tb.t.Helper()
	var data []byte
	if s, ok := m.(string); ok {
		data = []byte(s)
	} else {
		data, _ = json.Marshal(m)
	}
	if err := tb.ws.Write(tb.t.Context(), websocket.MessageText, data); err != nil {
		tb.t.Fatalf("send: %v", err)
	}
}

// expect waits for the next message of type typ, skipping queue and
// callback updates and other types.
func (tb *tab) expect(typ string) Msg {
	tb.t.Helper()
	m, err := tb.wait(typ, 5*time.Second)
	if err != nil {
		tb.t.Fatal(err)
	}
	return m
}

func (tb *tab) wait(typ string, d time.Duration) (Msg, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case m := <-tb.msgs:
			if m.Type == typ {
				return m, nil
			}
			if m.Type == MsgError && typ != MsgError {
				tb.t.Logf("hub said error: %s", m.Message)
			}
		case <-tb.done:
			for len(tb.msgs) > 0 { // what came before the close
				if m := <-tb.msgs; m.Type == typ {
					return m, nil
				}
			}
			return Msg{}, errors.New("socket closed while waiting for " + typ)
		case <-timer.C:
			return Msg{}, errors.New("no " + typ + " message")
		}
	}
}

// available makes the tab's agent available.
func (tb *tab) available() {
	tb.t.Helper()
	tb.send(Msg{Type: MsgAvailable})
	for {
		if m := tb.expect(MsgState); m.State == "available" {
			return
		}
	}
}

// fakeCall is the caller's side as the server's coordinator offers it,
// with the RTP session replaced by a 20 ms clock: it pulls the outgoing
// source (what the caller hears) and feeds the tap (what the caller says).
type fakeCall struct {
	digits chan media.DTMF
	say    [][]int16 // the caller's voice, looped

	mu     sync.Mutex
	src    media.Source
	tap    media.PCM16Writer
	heard  [][]int16
	played []string
}

func newFakeCall(say [][]int16) *fakeCall {
	return &fakeCall{digits: make(chan media.DTMF, 8), say: say}
}

func (f *fakeCall) Play(ctx context.Context, names ...string) (bool, error) {
	f.mu.Lock()
	f.played = append(f.played, names...)
	f.mu.Unlock()
	return false, ctx.Err()
}
func (f *fakeCall) Digits() <-chan media.DTMF { return f.digits }
func (f *fakeCall) SetSource(s media.Source) {
	f.mu.Lock()
	f.src = s
	f.mu.Unlock()
}
func (f *fakeCall) Tap(w media.PCM16Writer) {
	f.mu.Lock()
	f.tap = w
	f.mu.Unlock()
}
func (f *fakeCall) Log() *slog.Logger { return testLog() }

func testLog() *slog.Logger {
	if os.Getenv("BRIDGE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// run is the call's media clock until ctx ends.
func (f *fakeCall) run(ctx context.Context) {
	t := time.NewTicker(media.FrameDuration)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		f.mu.Lock()
		src, tap := f.src, f.tap
		f.mu.Unlock()
		if src != nil {
			fr := make([]int16, media.FrameSamples)
			if src.ReadFrame(fr) {
				f.mu.Lock()
				f.heard = append(f.heard, fr)
				f.mu.Unlock()
			}
		}
		if tap != nil && len(f.say) > 0 {
			_ = tap.WriteSample(f.say[i%len(f.say)])
		}
	}
}

func (f *fakeCall) heardSince(n int) [][]int16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]int16(nil), f.heard[min(n, len(f.heard)):]...)
}

func (f *fakeCall) playedNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.played...)
}

// handoff starts a handed-over call; the returned channel gets Handoff's
// result.
func (h *harness) handoff(ctx context.Context, id string, call *fakeCall) <-chan error {
	return h.handoffQueued(ctx, id, call, nil)
}

// handoffQueued is handoff for a call that Ring queued at the bot's
// decision (w), as `ivr serve` does.
func (h *harness) handoffQueued(ctx context.Context, id string, call *fakeCall, w *Waiting) <-chan error {
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); call.run(ctx) }()
	go func() {
		errc <- h.br.Handoff(ctx, call, HandoffContext{Card: HandoffCard{CallID: id, From: "+1555" + id,
			Transcript: []CardTurn{{At: "0:01", Who: "caller", Text: "agent"}}}, Codec: "PCMU", Queued: w})
		wg.Wait()
	}()
	return errc
}

// testPromptNames are the prompts the bridge plays.
var testPromptNames = []string{"hold_music", "technical_error", "agent_disconnected", "queue_thanks_holding", "agents_closed",
	"callback_offer", "callback_confirmed", "goodbye", "queue_caller_number", "queue_in_line", "queue_wait_is",
	"queue_wait_under_minute", "num_1", "num_2", "num_3", "num_9", "num_20", "word_minute", "word_minutes"}

// testPrompts loads the bridge's prompts only (decoding the whole set
// takes long under the race detector).
func testPrompts(t testing.TB) *prompts.Catalog {
	t.Helper()
	tsv, err := os.ReadFile("../prompts/audio/catalog.tsv")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	var lines []string
	for _, line := range strings.Split(string(tsv), "\n") {
		name, _, _ := strings.Cut(line, "\t")
		if !slices.Contains(testPromptNames, name) {
			continue
		}
		lines = append(lines, line)
		data, err := os.ReadFile("../prompts/audio/" + name + ".mp3")
		if err != nil {
			t.Fatal(err)
		}
		fsys["p/"+name+".mp3"] = &fstest.MapFile{Data: data}
	}
	fsys["p/"+prompts.CatalogFile] = &fstest.MapFile{Data: []byte(strings.Join(lines, "\n") + "\n")}
	cat, err := prompts.Load(fsys, "p")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}
