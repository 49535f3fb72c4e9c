package sip

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"
)

// The RFC 4475 torture messages (sip/testdata/rfc4475, the RFC's
// Appendix B archive, byte for byte) sent to a live server's UDP and TCP
// listeners. The server's handler refuses every call with 486, so that no
// request ever goes to the messages' Contact hosts (example.com names):
// a 486 means the INVITE passed every check and reached the application.
//
// Outcomes: a status code is the final response; "drop" is no final
// response within tortureWait (UDP; on TCP the server waits for the rest
// of the message); "close" is the TCP connection closed with no final
// response. Where two are listed either is accepted (sipgo's TCP framing
// closes the connection after some errors, racing the response).
type tortureCase struct {
	name, section string
	udp, tcp      string
	note          string
}

var tortureCases = []tortureCase{
	// §3.1.1 valid messages: each must be parsed and answered sensibly.
	{"wsinv", "3.1.1.1", "400", "400", "DIVERGES: sipgo cannot unfold the LWS in this Via and answers a stateless 400"},
	{"intmeth", "3.1.1.2", "405", "405", "unknown method: 405 with Allow"},
	{"esc01", "3.1.1.3", "486", "486", "reaches the application"},
	{"escnull", "3.1.1.4", "405|401|403", "405|401|403", "REGISTER is not served (yet) (401/403 once a registrar with digest auth serves it)"},
	{"esc02", "3.1.1.5", "405", "405", "RE%47IST%45R is an unknown method"},
	{"lwsdisp", "3.1.1.6", "200", "200", "OPTIONS"},
	{"longreq", "3.1.1.7", "drop", "486", "UDP: the answer is larger than the MTU and sipgo does not send it (RFC 3261 §18.2.2 gives no fallback); TCP reaches the application"},
	{"dblreq", "3.1.1.8", "405|401|403", "close|400|405|401|403", "UDP: the bytes after the REGISTER are ignored; DIVERGES on TCP: sipgo closes the connection (a response to one of the two requests may come first)"},
	{"semiuri", "3.1.1.9", "200", "200", "OPTIONS"},
	{"transports", "3.1.1.10", "200", "200", "OPTIONS"},
	{"mpart01", "3.1.1.11", "405", "405", "MESSAGE is not served"},
	{"unreason", "3.1.1.12", "drop", "drop", "a response matching no transaction is dropped"},
	{"noreason", "3.1.1.13", "drop", "drop", "a response matching no transaction is dropped"},
	// §3.1.2 invalid messages: 400 where the message can be answered, else dropped.
	{"badinv01", "3.1.2.1", "drop", "close", "no usable Via: cannot be answered"},
	{"clerr", "3.1.2.2", "drop", "drop", "Content-Length past the datagram: discarded; TCP waits for the rest"},
	{"ncl", "3.1.2.3", "drop", "close", "negative Content-Length: UDP discarded (the RFC prefers 400); TCP closed as it asks"},
	{"scalar02", "3.1.2.4", "drop", "close", "DIVERGES: dropped by sipgo's parser, the RFC asks for 400"},
	{"scalarlg", "3.1.2.5", "drop", "close", "a response: dropped"},
	{"quotbal", "3.1.2.6", "drop", "close", "DIVERGES: dropped by sipgo's parser, the RFC asks for 400"},
	{"ltgtruri", "3.1.2.7", "drop", "close", "DIVERGES: dropped by sipgo's parser, the RFC asks for 400"},
	{"lwsruri", "3.1.2.8", "drop", "close", "DIVERGES: dropped by sipgo's parser, the RFC asks for 400"},
	{"lwsstart", "3.1.2.9", "drop", "close", "DIVERGES: dropped by sipgo's parser, the RFC asks for 400"},
	{"trws", "3.1.2.10", "drop", "close", "DIVERGES: dropped by sipgo's parser, the RFC asks for 400"},
	{"escruri", "3.1.2.11", "400", "400", "header fields in the Request-URI (checkRequest)"},
	{"baddate", "3.1.2.12", "486", "486", "the Date field is not read: the INVITE reaches the application"},
	{"regbadct", "3.1.2.13", "405|401|403", "405|401|403", "REGISTER is not served (401/403 once a registrar with digest auth serves it)"},
	{"badaspec", "3.1.2.14", "drop", "close", "DIVERGES: dropped by sipgo's parser, the RFC asks for 400"},
	{"baddn", "3.1.2.15", "drop", "drop", "DIVERGES: dropped by sipgo's parser, the RFC asks for 400"},
	{"badvers", "3.1.2.16", "505", "505", "SIP/7.0 (checkRequest)"},
	{"mismatch01", "3.1.2.17", "400", "400", "CSeq method differs (checkRequest)"},
	{"mismatch02", "3.1.2.18", "400", "400", "CSeq method differs (checkRequest)"},
	{"bigcode", "3.1.2.19", "drop", "close", "a response with a status beyond 699: dropped"},
	// §3.2 transaction layer.
	{"badbranch", "3.2.1", "200", "200", "a branch of just the magic cookie is still a branch"},
	// §3.3 application layer.
	{"insuf", "3.3.1", "400", "400", "missing mandatory header fields"},
	{"unkscm", "3.3.2", "416", "416", "unknown Request-URI scheme (checkRequest)"},
	{"novelsc", "3.3.3", "drop", "close", "DIVERGES: sipgo's parser drops the soap.beep URI, the RFC asks for 416"},
	{"unksm2", "3.3.4", "405|401|403", "405|401|403", "REGISTER is not served (401/403 once a registrar with digest auth serves it)"},
	{"bext01", "3.3.5", "420", "420", "Require with unknown option tags, Unsupported listed (checkRequest)"},
	{"invut", "3.3.6", "415", "415", "unknown body type"},
	{"regaut01", "3.3.7", "405|401|403", "405|401|403", "REGISTER is not served (401/403 once a registrar with digest auth serves it)"},
	{"multi01", "3.3.8", "400", "400", "two Call-ID, CSeq, To and From fields (checkRequest)"},
	{"mcl01", "3.3.9", "400", "400|close", "two Content-Length fields (checkRequest)"},
	{"bcast", "3.3.10", "drop", "drop", "a response: dropped"},
	{"zeromf", "3.3.11", "200", "200", "Max-Forwards 0 does not concern the UAS"},
	{"cparam01", "3.3.12", "405|401|403", "405|401|403", "REGISTER is not served (401/403 once a registrar with digest auth serves it)"},
	{"cparam02", "3.3.13", "405|401|403", "405|401|403", "REGISTER is not served (401/403 once a registrar with digest auth serves it)"},
	{"regescrt", "3.3.14", "405|401|403", "405|401|403", "REGISTER is not served (401/403 once a registrar with digest auth serves it)"},
	{"sdp01", "3.3.15", "406", "406", "Accept excludes application/sdp (checkRequest)"},
	{"inv2543", "3.3.16", "400", "close", "no Contact: refused 400 (we must be able to send BYE); TCP: no Content-Length, closed"},
}

// tortureWait is how long to wait for a final response.
const tortureWait = time.Second

// refuseAll is the torture test's handler: every call is refused with 486,
// except calls from 15550100 (the test's own softphone), which are answered.
func refuseAll(c *InboundCall) {
	if c.From != "15550100" {
		_ = c.Reject(&StatusError{Code: 486, Reason: "Busy Here"})
		return
	}
	if c.Answer(LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: 30000}) == nil {
		<-c.Context().Done()
	}
}

func tortureMessage(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rfc4475", name+".dat"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// viaPort is the port the server sends UDP responses to: the top Via's
// (RFC 3261 §18.2.2), 5060 when it has none or the message does not parse.
func viaPort(b []byte) int {
	if m, err := gosip.ParseMessage(b); err == nil {
		if r, ok := m.(*gosip.Request); ok && r.Via() != nil && r.Via().Port != 0 {
			return r.Via().Port
		}
	}
	return 5060
}

// tortureUDP sends b from src (whose port is the Via's) and returns the
// outcome.
func tortureUDP(t *testing.T, srv *Server, b []byte, src net.IP) string {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: src, Port: viaPort(b)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(srv.Addr().String()))
	if _, err := conn.WriteToUDP(b, dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	deadline := time.Now().Add(tortureWait)
	for {
		conn.SetReadDeadline(deadline)
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			return "drop"
		}
		if code, final := statusOf(buf[:n]); final {
			return code
		}
	}
}

// tortureTCP sends b on a new connection and returns the outcome.
func tortureTCP(t *testing.T, srv *Server, b []byte) string {
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Error(err)
		return "error"
	}
	defer conn.Close()
	if _, err := conn.Write(b); err != nil {
		t.Error(err)
		return "error"
	}
	conn.SetReadDeadline(time.Now().Add(tortureWait))
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || err != nil && strings.Contains(err.Error(), "reset") {
			return "close"
		}
		if err != nil {
			return "drop"
		}
		if code, final := statusOf([]byte(line)); final {
			return code
		}
	}
}

// statusOf reads a status line: the code and whether it is final.
func statusOf(b []byte) (string, bool) {
	line, _, _ := strings.Cut(string(b), "\r\n")
	v, rest, ok := strings.Cut(strings.TrimSpace(line), " ")
	if !ok || !strings.HasPrefix(v, "SIP/") {
		return "", false
	}
	code, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	return code, err == nil && n >= 200
}

// TestTortureMessages sends each message to a fresh server (many share
// branch and Call-ID, so one server would take them as retransmissions)
// and checks the outcome against the table.
func TestTortureMessages(t *testing.T) {
	for i, tc := range tortureCases {
		b := tortureMessage(t, tc.name)
		src := net.IPv4(127, 0, 1, byte(10+i)) // the UDP answer goes to this address and the Via's port
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srvU := startServer(t, HandlerFunc(refuseAll))
			srvT := startServer(t, HandlerFunc(refuseAll))
			if got := tortureUDP(t, srvU, b, src); !outcomeIs(got, tc.udp) {
				t.Errorf("§%s %s over UDP: %s, want %s (%s)", tc.section, tc.name, got, tc.udp, tc.note)
			}
			if got := tortureTCP(t, srvT, b); !outcomeIs(got, tc.tcp) {
				t.Errorf("§%s %s over TCP: %s, want %s (%s)", tc.section, tc.name, got, tc.tcp, tc.note)
			}
		})
	}
}

func outcomeIs(got, want string) bool {
	for _, w := range strings.Split(want, "|") {
		if got == w {
			return true
		}
	}
	return false
}

// TestTortureThenCall sends every message to one server over UDP and TCP,
// then places a normal call: it must be answered, and once it is over no
// call and no goroutine of the server is left.
func TestTortureThenCall(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*TransportUDP).readUDPConnection"))
	srv, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Log: quietLog(), LoopbackOnly: true}, HandlerFunc(refuseAll))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	<-srv.Ready()
	// Over TCP every connection stays open until its answer (or the wait)
	// is over: sipgo answers a request whose connection is already gone by
	// connecting to its Via sent-by, which here names hosts that are not
	// loopback (docs/fuzz.md, "Findings").
	var wg sync.WaitGroup
	for i, tc := range tortureCases {
		b := tortureMessage(t, tc.name)
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 2, byte(10+i)), Port: viaPort(b)})
		if err != nil {
			t.Fatal(err)
		}
		conn.WriteToUDP(b, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(srv.Addr().String())))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			buf := make([]byte, 65536)
			for {
				conn.SetReadDeadline(time.Now().Add(tortureWait))
				if n, _, err := conn.ReadFromUDP(buf); err != nil {
					return
				} else if _, final := statusOf(buf[:n]); final {
					return
				}
			}
		}()
		wg.Add(1)
		go func() { defer wg.Done(); tortureTCP(t, srv, b) }()
	}
	wg.Wait()
	callCtx, callCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer callCancel()
	phone := newPhone(t, "udp")
	call, err := phone.Dial(callCtx, srv.Addr().String(), offer(pcmu, event), nil)
	if err != nil {
		t.Fatalf("a normal call after the torture messages: %v", err)
	}
	if err := call.Hangup(callCtx); err != nil {
		t.Fatal(err)
	}
	phone.Close()
	for srv.Calls() > 0 && callCtx.Err() == nil {
		select {
		case <-callCtx.Done():
		case <-time.After(10 * time.Millisecond): // a bounded wait for the handlers to return, not pacing
		}
	}
	if n := srv.Calls(); n != 0 {
		t.Errorf("%d calls left after the torture and one normal call", n)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
