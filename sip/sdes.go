package sip

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SDES: SRTP keys exchanged in the SDP (RFC 4568), one a=crypto line per
// offered suite. The keys travel in the clear inside the SIP message, so
// they are only as secret as the signalling: see SRTPPolicy.

// ErrSRTP reports an SRTP offer or answer we cannot accept; it becomes 488.
var ErrSRTP = errors.New("sip: SRTP not acceptable")

// The SDES crypto suites we implement (RFC 4568 §6.2.1, §6.2.2).
const (
	SuiteAES128SHA1_80 = "AES_CM_128_HMAC_SHA1_80"
	SuiteAES128SHA1_32 = "AES_CM_128_HMAC_SHA1_32"
)

// sdesKeyLen is the inline key length of both suites: 16-byte master key
// followed by a 14-byte master salt.
const sdesKeyLen = 30

// minLifetime is the shortest key lifetime (in packets) we accept: at 50
// packets a second, 2^20 lasts 5.8 hours, longer than any call we take.
const minLifetime = 1 << 20

// SRTPPolicy says how a server treats SRTP offers.
type SRTPPolicy uint8

// SRTP policies.
const (
	// SRTPOptional answers RTP/SAVP offers with SRTP and RTP/AVP offers with
	// plain RTP (the default).
	SRTPOptional SRTPPolicy = iota
	// SRTPOff refuses RTP/SAVP offers (488) and takes RTP/AVP ones.
	SRTPOff
	// SRTPRequired refuses plain RTP/AVP offers (488).
	SRTPRequired
)

// String returns the flag value naming p.
func (p SRTPPolicy) String() string {
	switch p {
	case SRTPOff:
		return "off"
	case SRTPRequired:
		return "required"
	}
	return "optional"
}

// ParseSRTPPolicy reads "off", "optional" or "required".
func ParseSRTPPolicy(s string) (SRTPPolicy, error) {
	for _, p := range []SRTPPolicy{SRTPOff, SRTPOptional, SRTPRequired} {
		if strings.EqualFold(strings.TrimSpace(s), p.String()) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("srtp policy %q: want off, optional or required", s)
}

// Crypto is one SDES crypto attribute (RFC 4568 §9.1) with a single inline
// key and no MKI: "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY".
type Crypto struct {
	Tag   int
	Suite string
	Key   []byte // master key || master salt, 30 bytes
}

// String is the attribute value, without "a=crypto:".
func (c Crypto) String() string {
	return fmt.Sprintf("%d %s inline:%s", c.Tag, c.Suite, base64.StdEncoding.EncodeToString(c.Key))
}

// SDES is the outcome of an SDES exchange: the suite both sides use and
// each side's master key (each side sends with its own).
type SDES struct {
	Tag       int
	Suite     string
	LocalKey  []byte // what we send with; we wrote it in our SDP
	RemoteKey []byte // what the far end sends with
}

// Secure reports whether the stream is offered or answered as SRTP
// (RTP/SAVP or RTP/SAVPF).
func (m *Media) Secure() bool {
	return m.Proto == "RTP/SAVP" || m.Proto == "RTP/SAVPF"
}

// cryptoLines returns the values of the stream's a=crypto attributes.
func cryptoLines(m *Media) []string {
	if m.desc == nil || m.index >= len(m.desc.MediaDescriptions) {
		return nil
	}
	var out []string
	for _, a := range m.desc.MediaDescriptions[m.index].Attributes {
		if a.Key == "crypto" {
			out = append(out, a.Value)
		}
	}
	return out
}

// ParseCrypto reads one a=crypto value. Anything we cannot honour is an
// error naming it: an unknown suite, a key that is not 30 bytes of base64,
// an MKI, a lifetime under 2^20, more than one key, or session parameters
// other than the window size hint.
func ParseCrypto(v string) (Crypto, error) {
	fields := strings.Fields(v)
	if len(fields) < 3 {
		// Not %q of v: a malformed line may still hold a key, which must not reach a log.
		return Crypto{}, fmt.Errorf("crypto line has %d fields: want TAG SUITE inline:KEY", len(fields))
	}
	tag, err := strconv.Atoi(fields[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return Crypto{}, fmt.Errorf("crypto tag %s: want 1 to 9 digits", safeToken(fields[0]))
	}
	c := Crypto{Tag: tag, Suite: strings.ToUpper(fields[1])}
	if c.Suite != SuiteAES128SHA1_80 && c.Suite != SuiteAES128SHA1_32 {
		return c, fmt.Errorf("crypto tag %d: unsupported suite %s", tag, safeToken(fields[1]))
	}
	if strings.Contains(fields[2], ";") {
		return c, fmt.Errorf("crypto tag %d: more than one key (MKI) is not supported", tag)
	}
	if c.Key, err = parseKeyParam(fields[2]); err != nil {
		return c, fmt.Errorf("crypto tag %d: %w", tag, err)
	}
	for _, p := range fields[3:] {
		if !strings.HasPrefix(strings.ToUpper(p), "WSH=") { // a window size hint may be ignored (§6.3.7)
			return c, fmt.Errorf("crypto tag %d: session parameter %s is not supported", tag, safeToken(p))
		}
	}
	return c, nil
}

// parseKeyParam reads "inline:KEY[|LIFETIME][|MKI:LEN]" (RFC 4568 §6.1).
func parseKeyParam(p string) ([]byte, error) {
	method, info, ok := strings.Cut(p, ":")
	if !ok || !strings.EqualFold(method, "inline") {
		return nil, errors.New("key method: want inline") // the parameter itself may be a key: not echoed
	}
	parts := strings.Split(info, "|")
	key, err := base64.StdEncoding.DecodeString(parts[0])
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(parts[0])
	}
	if err != nil {
		return nil, errors.New("key is not base64")
	}
	if len(key) != sdesKeyLen {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), sdesKeyLen)
	}
	for _, extra := range parts[1:] {
		if strings.Contains(extra, ":") {
			return nil, errors.New("MKI is not supported")
		}
		if err := checkLifetime(extra); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// checkLifetime accepts a key lifetime ("2^31" or decimal) of at least
// minLifetime packets.
func checkLifetime(s string) error {
	var n uint64
	if exp, ok := strings.CutPrefix(s, "2^"); ok {
		e, err := strconv.ParseUint(exp, 10, 8)
		if err != nil || e > 63 {
			return fmt.Errorf("lifetime %s is not a number", safeToken(s))
		}
		n = 1 << e
	} else {
		var err error
		if n, err = strconv.ParseUint(s, 10, 64); err != nil {
			return fmt.Errorf("lifetime %s is not a number", safeToken(s))
		}
	}
	if n < minLifetime {
		return fmt.Errorf("lifetime %s is shorter than 2^20 packets", s)
	}
	return nil
}

// selectCrypto picks the first a=crypto line of offer we can use (RFC
// 4568 §7.1.1: the answerer chooses one); the error says why none could.
func selectCrypto(offer *Media) (Crypto, error) {
	lines := cryptoLines(offer)
	if len(lines) == 0 {
		return Crypto{}, fmt.Errorf("%w: RTP/SAVP offer without a=crypto (only SDES keying is supported)", ErrSRTP)
	}
	var errs []string
	for _, l := range lines {
		c, err := ParseCrypto(l)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err.Error())
	}
	return Crypto{}, fmt.Errorf("%w: %s", ErrSRTP, strings.Join(errs, "; "))
}

func newSDESKey() ([]byte, error) {
	k := make([]byte, sdesKeyLen)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("sip: SRTP key: %w", err)
	}
	return k, nil
}

// answerSDES decides how to answer offer's security: nil for plain RTP, or
// the SDES keys to use (a fresh key of ours unless prev, the call's current
// keys, already has one for the same suite). tls says whether the offer
// came over TLS.
func answerSDES(offer *Media, policy SRTPPolicy, tls, insecure bool, prev *SDES) (*SDES, error) {
	if !offer.Secure() {
		if policy == SRTPRequired {
			return nil, fmt.Errorf("%w: SRTP required: offer RTP/SAVP with a=crypto", ErrSRTP)
		}
		return nil, nil
	}
	switch {
	case policy == SRTPOff:
		return nil, fmt.Errorf("%w: SRTP is off here: offer RTP/AVP", ErrSRTP)
	case !tls && !insecure:
		return nil, fmt.Errorf("%w: SDES keys are only taken over TLS (sip:...;transport=tls)", ErrSRTP)
	}
	c, err := selectCrypto(offer)
	if err != nil {
		return nil, err
	}
	s := &SDES{Tag: c.Tag, Suite: c.Suite, RemoteKey: c.Key}
	if prev != nil && prev.Suite == c.Suite {
		s.LocalKey = prev.LocalKey
	} else if s.LocalKey, err = newSDESKey(); err != nil {
		return nil, err
	}
	return s, nil
}

// answerCrypto is the a=crypto line of our answer.
func (s *SDES) answerCrypto() []Crypto {
	if s == nil {
		return nil
	}
	return []Crypto{{Tag: s.Tag, Suite: s.Suite, Key: s.LocalKey}}
}

// NewCryptoOffer makes the a=crypto lines of an SRTP offer: one per suite
// we implement (80-bit tag first), each with a fresh key.
func NewCryptoOffer() ([]Crypto, error) {
	var out []Crypto
	for i, suite := range []string{SuiteAES128SHA1_80, SuiteAES128SHA1_32} {
		k, err := newSDESKey()
		if err != nil {
			return nil, err
		}
		out = append(out, Crypto{Tag: i + 1, Suite: suite, Key: k})
	}
	return out, nil
}

// AcceptCryptoAnswer reads the SDES answer to our offer: the answer must be
// RTP/SAVP with exactly one a=crypto line whose tag and suite are among
// those we offered.
func AcceptCryptoAnswer(offered []Crypto, answer *Media) (*SDES, error) {
	if !answer.Secure() {
		return nil, fmt.Errorf("%w: answer is %s, not RTP/SAVP", ErrSRTP, answer.Proto)
	}
	lines := cryptoLines(answer)
	if len(lines) != 1 {
		return nil, fmt.Errorf("%w: answer has %d a=crypto lines, want 1", ErrSRTP, len(lines))
	}
	c, err := ParseCrypto(lines[0])
	if err != nil {
		return nil, fmt.Errorf("%w: answer: %w", ErrSRTP, err)
	}
	for _, o := range offered {
		if o.Tag == c.Tag && o.Suite == c.Suite {
			if bytes.Equal(o.Key, c.Key) {
				return nil, fmt.Errorf("%w: answer echoes our key", ErrSRTP)
			}
			return &SDES{Tag: c.Tag, Suite: c.Suite, LocalKey: o.Key, RemoteKey: c.Key}, nil
		}
	}
	return nil, fmt.Errorf("%w: answer tag %d %s was not offered", ErrSRTP, c.Tag, c.Suite)
}

// safeToken is s for an error message when it looks like a suite name,
// parameter or number (at most 24 letters, digits and _=^), else a
// placeholder: a malformed line may carry a key where a name belongs, and
// errors reach the log and the Warning header.
func safeToken(s string) string {
	if len(s) == 0 || len(s) > 24 {
		return "(unreadable)"
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("_=^", r)) {
			return "(unreadable)"
		}
	}
	return s
}
