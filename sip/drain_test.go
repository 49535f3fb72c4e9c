package sip

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestDrainRefusesNewWork: once draining, OPTIONS probes and new INVITEs
// get 503 with Retry-After, while a call in progress keeps its dialog:
// its BYE is still answered.
func TestDrainRefusesNewWork(t *testing.T) {
	srv := startServer(t, answerer(LocalMedia{Addr: netip.MustParseAddr("127.0.0.1"), Port: 30000}, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	up, err := newPhone(t, "udp").Dial(ctx, srv.Addr().String(), offer(pcmu), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Drain()
	const head = "Via: SIP/2.0/UDP LOCAL;branch=z9hG4bK-%s\nFrom: <sip:a@127.0.0.1>;tag=1\nTo: <sip:ivr@127.0.0.1>%s\nCall-ID: %s\nCSeq: 1 %s\nMax-Forwards: 70\nContact: <sip:a@LOCAL>\n"
	opts := "OPTIONS sip:ivr@127.0.0.1 SIP/2.0\n" + fmtHead(head, "d1", "", "drain-opt", "OPTIONS") + "Content-Length: 0\n\n"
	if got := rawExchange(t, srv, opts); !strings.HasPrefix(got, "SIP/2.0 503") {
		t.Errorf("OPTIONS while draining: %q, want 503", got)
	}
	_, err = newPhone(t, "tcp").Dial(ctx, srv.Addr().String(), offer(pcmu), nil)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 503 || se.RetryAfter == 0 {
		t.Errorf("INVITE while draining: %v, want 503 with Retry-After", err)
	}
	if err := up.Hangup(ctx); err != nil {
		t.Errorf("BYE of the call in progress while draining: %v", err)
	}
}
