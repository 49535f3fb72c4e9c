package sip

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRejectDoesNotWaitForAck: a caller that never ACKs our failure
// response must not hold the call handler for Timer H (32 s). Found by
// FuzzServer (RFC 4475 INVITEs whose Via sends the 486 elsewhere); the
// corpus entry is sip/testdata/fuzz/FuzzServer/rfc4475_wsinv.
func TestRejectDoesNotWaitForAck(t *testing.T) {
	returned := make(chan time.Duration, 1)
	srv := startServer(t, HandlerFunc(func(c *InboundCall) {
		start := time.Now()
		if err := c.Reject(&StatusError{Code: 486, Reason: "Busy Here"}); err != nil {
			t.Errorf("reject: %v", err)
		}
		returned <- time.Since(start)
	}))
	conn, err := net.Dial("udp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	inv := "INVITE sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-noack\r\n" +
		"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:ivr@127.0.0.1>\r\nCall-ID: noack-1\r\nCSeq: 1 INVITE\r\n" +
		"Max-Forwards: 70\r\nContact: <sip:a@" + local + ">\r\nContent-Type: application/sdp\r\n" +
		"Content-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp
	if _, err := conn.Write([]byte(inv)); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-returned:
		if d > 2*time.Second {
			t.Errorf("Reject took %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Reject still waiting for the ACK after 10 s")
	}
	// The response itself arrived, with the dialog's To tag, and is
	// retransmitted by the transaction while no ACK comes.
	buf := make([]byte, 4096)
	got := 0
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for got < 2 {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("got %d copies of the 486: %v", got, err)
		}
		if msg := string(buf[:n]); strings.HasPrefix(msg, "SIP/2.0 486") {
			if !strings.Contains(msg, ";tag=") {
				t.Errorf("486 without a To tag:\n%s", msg)
			}
			got++
		}
	}
}
