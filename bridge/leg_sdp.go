package bridge

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/supportline/ivr/media"
)

// checkAnswer checks the browser's SDP answer before pion applies it, so
// the error says what is wrong and a refused answer leaves the
// PeerConnection as it was (pion changes its signaling state before some of
// its own checks). The answer must parse and carry a DTLS fingerprint and
// ICE credentials, and its first audio section must keep the port open,
// list the caller's codec (by payload type, with a matching rtpmap when it
// has one) and let the browser receive (sendrecv or recvonly: the agent
// must hear the caller).
func checkAnswer(raw string, codec media.Codec) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("%w: empty", ErrBadAnswer)
	}
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(raw); err != nil {
		return fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	for _, m := range desc.MediaDescriptions {
		if m.MediaName.Media != "audio" {
			continue
		}
		for _, key := range []string{"fingerprint", "ice-ufrag", "ice-pwd"} {
			_, inSession := desc.Attribute(key)
			if _, inMedia := m.Attribute(key); !inSession && !inMedia {
				return fmt.Errorf("%w: no a=%s", ErrBadAnswer, key)
			}
		}
		return checkAudio(m, codec)
	}
	return fmt.Errorf("%w: the answer has no audio section", ErrCodecRefused)
}

func checkAudio(m *sdp.MediaDescription, codec media.Codec) error {
	if m.MediaName.Port.Value == 0 {
		return fmt.Errorf("%w: audio rejected (port 0)", ErrCodecRefused)
	}
	for _, dir := range []string{"inactive", "sendonly"} {
		if _, ok := m.Attribute(dir); ok {
			return fmt.Errorf("%w: the browser answered %s: it would not receive the caller", ErrCodecRefused, dir)
		}
	}
	pt := strconv.Itoa(int(codec.PayloadType))
	found := false
	for _, f := range m.MediaName.Formats {
		found = found || f == pt
	}
	if !found {
		return fmt.Errorf("%w: %s (payload type %s) not in the answer's formats %v",
			ErrCodecRefused, codec, pt, m.MediaName.Formats)
	}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" || !strings.HasPrefix(a.Value, pt+" ") {
			continue
		}
		name, rate, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(a.Value, pt+" ")), "/")
		rate, _, _ = strings.Cut(rate, "/")
		if !strings.EqualFold(name, codec.Name) || rate != strconv.Itoa(codec.ClockRate) {
			return fmt.Errorf("%w: payload type %s is %q in the answer, want %s", ErrCodecRefused, pt, a.Value, codec)
		}
	}
	return nil
}
