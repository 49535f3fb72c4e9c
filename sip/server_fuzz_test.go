package sip

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// The fuzz harness for the server: a live Server on loopback UDP, fed one
// datagram per input from a client socket. Inputs are message templates:
// before sending, placeholders are filled in so a mutated message can still
// reach the harness's established call:
//
//	LOCAL   the client socket's host:port (Via, Contact)
//	DIALOG  the Call-ID of the harness's call in progress
//	TOTAG   the server's tag of that call (To of in-dialog requests)
//	CSEQ    the next CSeq number of that call
//	BRANCH  a new Via branch (a new transaction)
//
// After each input an OPTIONS barrier is sent on the same socket and the
// harness reads until the barrier's 200 arrives: every response it sees
// must parse with a status in 100–699, a 2xx to an INVITE is ACKed, a
// non-2xx INVITE response gets its hop-by-hop ACK, and a server that stops
// answering fails the input.
type fuzzSIP struct {
	srv   *Server
	conn  *net.UDPConn
	local string

	expect  chan string   // Call-ID of the next call the handler answers (others are refused)
	ended   chan struct{} // the harness's call ended
	mu      sync.Mutex
	callID  string // the harness's call in progress, "" when none
	toTag   string
	cseq    int
	seq     int      // numbers barriers and calls
	seen    []string // status and CSeq of the responses read for the current input
	final   []string // Call-ID and CSeq of the final responses read for it
	refused int      // calls the handler refused
}

// sipFuzzing reports whether this process fuzzes (not a seed-corpus run).
func sipFuzzing() bool {
	fl := flag.Lookup("test.fuzz")
	return fl != nil && fl.Value.String() != ""
}

func newFuzzSIP(f *testing.F) *fuzzSIP {
	if sipFuzzing() {
		// Non-INVITE server transactions linger 64*T1 after their answer;
		// at thousands of inputs a second that is a lot of timers. Shorter
		// timers keep the worker's memory flat (loopback has no delay).
		gosip.SetTimers(20*time.Millisecond, 160*time.Millisecond, 200*time.Millisecond)
		f.Cleanup(func() { gosip.SetTimers(500*time.Millisecond, 4*time.Second, 5*time.Second) })
	}
	h := &fuzzSIP{expect: make(chan string, 1), ended: make(chan struct{}, 1)}
	s, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Log: quietLog(), LoopbackOnly: true}, HandlerFunc(h.handle))
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ctx) }()
	<-s.Ready()
	h.srv = s
	h.conn, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(s.Addr().String())))
	if err != nil {
		f.Fatal(err)
	}
	h.local = h.conn.LocalAddr().String()
	f.Cleanup(func() { h.hangup(f); cancel(); <-done; h.conn.Close() })
	return h
}

// handle answers the harness's own call and refuses every other one, so
// no call made by a fuzz input lives on (its Contact could name any host).
func (h *fuzzSIP) handle(c *InboundCall) {
	answer := false
	select {
	case id := <-h.expect:
		if answer = id == c.ID; !answer {
			h.expect <- id
		}
	default:
	}
	if !answer {
		_ = c.Ringing()
		h.mu.Lock()
		h.refused++
		h.mu.Unlock()
		_ = c.Reject(&StatusError{Code: 486, Reason: "Busy Here"})
		return
	}
	defer func() {
		h.mu.Lock()
		if h.callID == c.ID {
			h.callID = ""
		}
		h.mu.Unlock()
		select {
		case h.ended <- struct{}{}:
		default:
		}
	}()
	if err := c.Answer(LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: 30000}); err != nil {
		return
	}
	for {
		select {
		case d := <-c.InfoDTMF():
			if !strings.ContainsRune("0123456789*#ABCD", rune(d)) {
				panic(fmt.Sprintf("INFO DTMF delivered %q", d)) // fails the fuzz input
			}
		case <-c.MediaChanged():
			if r := c.Remote(); r == nil || r.Port < 1 || r.Port > 65535 {
				panic(fmt.Sprintf("media changed to %+v", r))
			}
		case <-c.Context().Done():
			return
		}
	}
}

// fill replaces the placeholders of a template.
func (h *fuzzSIP) fill(data []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	r := strings.NewReplacer("LOCAL", h.local, "DIALOG", h.callID, "TOTAG", h.toTag, "CSEQ", strconv.Itoa(h.cseq+1),
		"BRANCH", "z9hG4bK-"+strconv.Itoa(h.seq))
	if bytes.Contains(data, []byte("CSEQ")) {
		h.cseq++
	}
	return []byte(r.Replace(string(data)))
}

// ensureCall sets up the harness's call when there is none.
func (h *fuzzSIP) ensureCall(t testing.TB) {
	h.mu.Lock()
	alive := h.callID != ""
	h.mu.Unlock()
	if alive {
		return
	}
	h.mu.Lock()
	h.seq++
	id := fmt.Sprintf("fuzz-call-%d-%d", h.seq, time.Now().UnixNano())
	h.callID, h.toTag, h.cseq = id, "", 1
	h.mu.Unlock()
	select {
	case <-h.ended: // a stale signal of the previous call
	default:
	}
	h.expect <- id
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
	inv := "INVITE sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + h.local + ";branch=z9hG4bK-" + id + "\r\n" +
		"From: <sip:fuzz@127.0.0.1>;tag=1\r\nTo: <sip:ivr@127.0.0.1>\r\nCall-ID: " + id + "\r\nCSeq: 1 INVITE\r\n" +
		"Max-Forwards: 70\r\nContact: <sip:fuzz@" + h.local + ">\r\nContent-Type: application/sdp\r\n" +
		"Content-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp
	h.write(t, []byte(inv))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		res := h.read(t, deadline)
		if res == nil {
			break
		}
		if res.CallID() != nil && res.CallID().Value() == id && res.StatusCode == 200 && res.To() != nil {
			h.mu.Lock()
			h.toTag, _ = res.To().Params.Get("tag")
			h.mu.Unlock()
			return // read ACKed it
		}
	}
	t.Fatal("the server did not answer the harness's call")
}

func (h *fuzzSIP) write(t testing.TB, b []byte) {
	if _, err := h.conn.Write(b); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// echoedStatus matches the end of a status line whose version is an echo
// of a broken request's: " 400 Bad Request", a code of 100–699 and a
// reason without line breaks.
var echoedStatus = regexp.MustCompile(`(^|\s)[1-6][0-9][0-9] [^\r\n]*$`)

// read returns the next response (nil at the deadline), checking it and
// sending the ACK an INVITE response needs.
func (h *fuzzSIP) read(t testing.TB, deadline time.Time) *gosip.Response {
	buf := make([]byte, 65536)
	h.conn.SetReadDeadline(deadline)
	n, err := h.conn.Read(buf)
	if err != nil {
		return nil
	}
	msg, err := gosip.ParseMessage(buf[:n])
	if err != nil {
		// A response copies From, To, Via, Call-ID and CSeq from the
		// request; sipgo accepts some malformed ones (To: <sip:D:G>) that
		// its parser then refuses in the copy, and its stateless 400 for a
		// request it cannot make a transaction of copies a broken Via
		// and version (even "sip0 400", or a version holding bare LFs).
		// Such an echo is tolerated; it must still end its first line with
		// a status code and reason (docs/fuzz.md, "Findings").
		line, _, _ := bytes.Cut(buf[:n], []byte("\r\n"))
		if echoedStatus.Match(line) {
			return h.read(t, deadline)
		}
		t.Fatalf("the server sent an unparsable message: %v\n%q", err, buf[:n])
	}
	res, ok := msg.(*gosip.Response)
	if !ok {
		// The server's own request (a BYE of the harness call): answer it.
		if req, ok := msg.(*gosip.Request); ok && req.Method != gosip.ACK {
			out := gosip.NewResponseFromRequest(req, 200, "OK", nil)
			h.write(t, []byte(out.String()))
		}
		return h.read(t, deadline)
	}
	if cs, cid := res.CSeq(), res.CallID(); cs != nil && cid != nil && !strings.HasPrefix(cid.Value(), "fuzz-barrier-") {
		h.seen = append(h.seen, fmt.Sprintf("%d %s", res.StatusCode, cs.MethodName))
		if res.StatusCode >= 200 {
			h.final = append(h.final, fmt.Sprintf("%s %d %s", cid.Value(), cs.SeqNo, cs.MethodName))
			if v := res.Via(); v != nil {
				if b, ok := v.Params.Get("branch"); ok {
					h.final = append(h.final, "branch "+b+" "+cs.MethodName.String())
				}
			}
		}
	}
	if res.StatusCode < 100 || res.StatusCode > 699 {
		t.Fatalf("response status %d", res.StatusCode)
	}
	if res.StatusCode == 500 && res.GetHeader("Retry-After") == nil {
		t.Fatalf("500 without Retry-After (an unexpected internal error): %s", res.StartLine())
	}
	if cs := res.CSeq(); cs != nil && cs.MethodName == gosip.INVITE && res.StatusCode >= 200 {
		h.ack(t, res)
	}
	return res
}

// ack acknowledges a final response to an INVITE: a 2xx with a new
// transaction, a failure within the INVITE's (RFC 3261 §17.1.1.3).
func (h *fuzzSIP) ack(t testing.TB, res *gosip.Response) {
	via, from, to, cid := res.Via(), res.From(), res.To(), res.CallID()
	if via == nil || from == nil || to == nil || cid == nil {
		return
	}
	branch, _ := via.Params.Get("branch")
	if res.StatusCode < 300 {
		branch += "-ack"
	}
	ack := "ACK sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + h.local + ";branch=" + branch + "\r\n" +
		"From: " + from.Value() + "\r\nTo: " + to.Value() + "\r\nCall-ID: " + cid.Value() + "\r\n" +
		"CSeq: " + strconv.Itoa(int(res.CSeq().SeqNo)) + " ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	h.write(t, []byte(ack))
}

// barrier sends an OPTIONS and reads until its 200 OK: the server is alive
// and has taken the input before it (UDP on loopback keeps order).
func (h *fuzzSIP) barrier(t testing.TB) {
	h.mu.Lock()
	h.seq++
	id := "fuzz-barrier-" + strconv.Itoa(h.seq)
	h.mu.Unlock()
	opt := "OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + h.local + ";branch=z9hG4bK-" + id + "\r\n" +
		"From: <sip:fuzz@127.0.0.1>;tag=b\r\nTo: <sip:ivr@127.0.0.1>\r\nCall-ID: " + id + "\r\nCSeq: 1 OPTIONS\r\n" +
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	// Like any UAC on UDP, retransmit (a datagram can be dropped when the
	// machine is loaded); ten silent half-seconds mean the server hangs.
	for try := 0; try < 10; try++ {
		h.write(t, []byte(opt))
		deadline := time.Now().Add(500 * time.Millisecond)
		for res := h.read(t, deadline); res != nil; res = h.read(t, deadline) {
			if res.CallID() != nil && res.CallID().Value() == id {
				if res.StatusCode != 200 {
					t.Fatalf("OPTIONS answered %d", res.StatusCode)
				}
				return
			}
		}
	}
	t.Fatal("the server stopped answering OPTIONS after this input")
}

// hangup ends the harness's call, so the server's shutdown need not wait
// for an answer to its own BYE.
func (h *fuzzSIP) hangup(t testing.TB) {
	h.mu.Lock()
	live := h.callID != ""
	h.mu.Unlock()
	if !live {
		return
	}
	h.write(t, h.fill([]byte(sipSeeds[2])))
	deadline := time.Now().Add(2 * time.Second)
	for res := h.read(t, deadline); res != nil; res = h.read(t, deadline) {
		if cs := res.CSeq(); cs != nil && cs.MethodName == gosip.BYE && res.StatusCode >= 200 {
			break
		}
	}
	select {
	case <-h.ended:
	case <-time.After(2 * time.Second):
		t.Log("the harness's call did not end on BYE")
	}
}

// awaitFinal reads until the final response to the input when it is a
// request whose responses come back to the harness (its top Via names the
// harness's socket): such a request must be answered.
func (h *fuzzSIP) awaitFinal(t testing.TB, msg []byte) {
	m, err := gosip.ParseMessage(msg)
	if err != nil {
		return
	}
	req, ok := m.(*gosip.Request)
	if !ok {
		return
	}
	via, cs, cid := req.Via(), req.CSeq(), req.CallID()
	if req.Method == gosip.ACK || via == nil || cs == nil || cid == nil || via.SentBy() != h.local ||
		cs.MethodName != req.Method {
		return
	}
	want := fmt.Sprintf("%d %s", cs.SeqNo, cs.MethodName)
	// An input whose Via branch an earlier input used, while that server
	// transaction still lingers, is a retransmission of it (RFC 3261
	// §17.2.3: matched by branch, sent-by and method): the answer is the
	// earlier transaction's response again, with its Call-ID and CSeq.
	branch, _ := via.Params.Get("branch")
	retrans := "branch " + branch + " " + req.Method.String()
	deadline := time.Now().Add(3 * time.Second)
	for {
		for _, got := range h.final {
			if got == cid.Value()+" "+want || branch != "" && got == retrans {
				return
			}
		}
		if h.read(t, deadline) == nil {
			t.Fatalf("no final response to %s %s within 3 s; got %v", cid.Value(), want, h.seen)
		}
	}
}

// sipSeeds are the corpus seeds also added in code (the committed corpus
// under testdata/fuzz/FuzzServer holds them and more).
var sipSeeds = []string{
	"OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP LOCAL;branch=BRANCH\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:ivr@127.0.0.1>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	"INFO sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP LOCAL;branch=BRANCH\r\nFrom: <sip:fuzz@127.0.0.1>;tag=1\r\nTo: <sip:ivr@127.0.0.1>;tag=TOTAG\r\nCall-ID: DIALOG\r\nCSeq: CSEQ INFO\r\nMax-Forwards: 70\r\nContact: <sip:fuzz@LOCAL>\r\nContent-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=5\r\nDuration=160\r\n",
	"BYE sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP LOCAL;branch=BRANCH\r\nFrom: <sip:fuzz@127.0.0.1>;tag=1\r\nTo: <sip:ivr@127.0.0.1>;tag=TOTAG\r\nCall-ID: DIALOG\r\nCSeq: CSEQ BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
}

// FuzzServer sends each input to a live server's UDP listener and checks
// the server's answers (see fuzzSIP).
func FuzzServer(f *testing.F) {
	for _, s := range sipSeeds {
		f.Add([]byte(s))
	}
	h := newFuzzSIP(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h.ensureCall(t)
		h.seen, h.final = h.seen[:0], h.final[:0]
		msg := h.fill(data)
		if len(msg) > 65000 {
			return // larger than a UDP datagram
		}
		h.write(t, msg)
		h.barrier(t)
		h.awaitFinal(t, msg)
		t.Logf("responses: %v", h.seen)
		// Refused calls end on their own goroutines; what must not happen
		// is calls piling up.
		if n := h.srv.Calls(); n > 64 {
			t.Fatalf("%d calls in progress after the input (harness has 1)", n)
		}
	})
}
