package bridge

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
)

// loopbackCandidates reports whether every ICE candidate line of an SDP
// names a loopback IP literal: a fuzzed answer must not make the leg
// resolve or contact another host.
func loopbackCandidates(sdp string) bool {
	for _, line := range strings.FieldsFunc(sdp, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if !strings.HasPrefix(strings.TrimSpace(line), "a=candidate") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 6 {
			return false
		}
		ip, err := netip.ParseAddr(f[4])
		if err != nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// FuzzLegAnswer gives the browser's SDP answer to a real WebRTC leg (pion
// PeerConnection with a fresh offer) as Leg.Answer does: the answer checks,
// then pion's SetRemoteDescription. An error must wrap ErrBadAnswer or
// ErrCodecRefused; a refused answer leaves the leg as it was. Answers whose
// candidates are not loopback IP literals are skipped (the leg would try
// to reach them).
func FuzzLegAnswer(f *testing.F) {
	f.Add(testAnswer)
	for _, m := range answerMutations {
		f.Add(m.edit(testAnswer))
	}
	f.Add(strings.Replace(testAnswer, "a=candidate:2213430339 1 udp 2130706431 127.0.0.1 50573 typ host\r\n",
		"a=candidate:1 1 tcp 2130706431 127.0.0.1 9 typ host tcptype active\r\na=candidate:2 1 udp 1 127.0.0.1 1 typ relay raddr 127.0.0.1 rport 2\r\n", 1))
	f.Add(strings.Replace(testAnswer, "a=setup:active", "a=setup:passive", 1))
	f.Fuzz(func(t *testing.T, sdp string) {
		err := checkAnswer(sdp, media.PCMU)
		if err != nil {
			if !errors.Is(err, ErrBadAnswer) && !errors.Is(err, ErrCodecRefused) {
				t.Fatalf("checkAnswer error of no sentinel: %v", err)
			}
			return
		}
		if !loopbackCandidates(sdp) {
			return
		}
		leg, err := NewLeg(testLegConfig("PCMU"))
		if err != nil {
			t.Fatal(err)
		}
		defer leg.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := leg.Offer(ctx); err != nil {
			t.Fatal(err)
		}
		if err := leg.Answer(sdp); err != nil && !errors.Is(err, ErrBadAnswer) && !errors.Is(err, ErrCodecRefused) {
			t.Fatalf("Answer error of no sentinel: %v", err)
		}
	})
}
