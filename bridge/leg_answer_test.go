package bridge

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
)

// answerMutations turn the browser's real answer into bad ones.
var answerMutations = []struct {
	name string
	edit func(string) string
	want error
}{
	{"empty", func(string) string { return "" }, ErrBadAnswer},
	{"blank", func(string) string { return " \r\n" }, ErrBadAnswer},
	{"not SDP", func(string) string { return "hello, I am a browser" }, ErrBadAnswer},
	{"JSON instead of SDP", func(string) string { return `{"type":"answer","sdp":"v=0"}` }, ErrBadAnswer},
	{"cut after the origin", func(s string) string { return strings.Join(strings.SplitN(s, "\r\n", 3)[:2], "\r\n") }, ErrCodecRefused},
	{"bad media line", replaceRe(`(?m)^m=audio \d+`, "m=audio x"), ErrBadAnswer},
	{"no audio section", func(string) string {
		return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	}, ErrCodecRefused},
	{"audio rejected", replaceRe(`(?m)^m=audio \d+`, "m=audio 0"), ErrCodecRefused},
	{"other law", func(s string) string {
		s = regexp.MustCompile(`(?m)^(m=audio \d+ \S+) 0\r$`).ReplaceAllString(s, "$1 8\r")
		return strings.ReplaceAll(s, "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000")
	}, ErrCodecRefused},
	{"payload type remapped", replaceRe(`a=rtpmap:0 PCMU/8000`, "a=rtpmap:0 opus/48000/2"), ErrCodecRefused},
	{"inactive", replaceRe(`a=sendrecv`, "a=inactive"), ErrCodecRefused},
	{"sendonly", replaceRe(`a=sendrecv`, "a=sendonly"), ErrCodecRefused},
	{"no fingerprint", replaceRe(`(?m)^a=fingerprint:.*\r\n`, ""), ErrBadAnswer},
	{"no ICE password", replaceRe(`(?m)^a=ice-pwd:.*\r\n`, ""), ErrBadAnswer},
}

func replaceRe(re, with string) func(string) string {
	r := regexp.MustCompile(re)
	return func(s string) string { return r.ReplaceAllString(s, with) }
}

// TestLegAnswerErrors gives the leg bad answers made from a real one: each
// is refused with the right error and leaves the leg as it was, so the real
// answer then connects.
func TestLegAnswerErrors(t *testing.T) {
	checkLeaks(t)
	ctx := testContext(t, 15*time.Second)
	leg := newTestLeg(t, testLegConfig("PCMU"))
	peer := newTestPeer(t, "PCMU", false)
	offer, err := leg.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good, err := peer.answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range answerMutations {
		t.Run(m.name, func(t *testing.T) {
			bad := m.edit(good)
			if bad == good {
				t.Fatalf("mutation changed nothing")
			}
			err := leg.Answer(bad)
			if !errors.Is(err, m.want) {
				t.Errorf("Answer: err %v, want %v", err, m.want)
			}
			t.Logf("%v", err)
		})
	}
	if err := leg.Answer(good); err != nil {
		t.Fatalf("the real answer after the bad ones: %v", err)
	}
	select {
	case <-leg.Connected():
	case <-ctx.Done():
		t.Fatal("not connected after the real answer")
	}
}

// FuzzCheckAnswer checks that no answer makes the checker panic, and that
// one it accepts names the caller's codec.
func FuzzCheckAnswer(f *testing.F) {
	f.Add(testAnswer)
	for _, m := range answerMutations {
		f.Add(m.edit(testAnswer))
	}
	f.Fuzz(func(t *testing.T, sdp string) {
		if err := checkAnswer(sdp, media.PCMU); err == nil && !strings.Contains(sdp, "m=audio") {
			t.Errorf("accepted an answer without audio: %q", sdp)
		}
	})
}

// testAnswer is an answer a pion peer gave to a PCMU leg.
const testAnswer = "v=0\r\n" +
	"o=- 2990189421429402741 1764444000 IN IP4 0.0.0.0\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=msid-semantic:WMS*\r\n" +
	"a=fingerprint:sha-256 3C:51:9B:5F:10:66:2B:9C:A9:4E:B2:B4:8E:72:C3:60:1A:4F:2F:70:55:66:C5:A4:0B:5B:5C:B6:5E:2A:DC:03\r\n" +
	"a=group:BUNDLE 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=setup:active\r\n" +
	"a=mid:0\r\n" +
	"a=ice-ufrag:tHhZbKqvnwYWpMSD\r\n" +
	"a=ice-pwd:dYpjXYwXTuQiaXqnbDwyKaRfrwCHPgcz\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtcp-rsize\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=ssrc:3011420934 cname:agent\r\n" +
	"a=msid:agent mic\r\n" +
	"a=sendrecv\r\n" +
	"a=candidate:2213430339 1 udp 2130706431 127.0.0.1 50573 typ host\r\n" +
	"a=end-of-candidates\r\n"
