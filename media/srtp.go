package media

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// SRTP errors, counted by the Session and never fatal to it.
var (
	// ErrSRTPAuth reports a received SRTP packet whose authentication tag did
	// not verify (a wrong key, or a forged or damaged packet).
	ErrSRTPAuth = errors.New("media: SRTP authentication failed")
	// ErrSRTPReplay reports a received SRTP packet whose index was already
	// seen (RFC 3711 §3.3.2 replay protection).
	ErrSRTPReplay = errors.New("media: SRTP replayed packet")
	// ErrSRTPKeys reports an SRTP suite or key that cannot be used.
	ErrSRTPKeys = errors.New("media: bad SRTP keys")
)

// SRTPSuite is an SRTP crypto suite as SDES names it (RFC 4568 §6.2).
type SRTPSuite string

// The crypto suites we implement (RFC 4568 §6.2.1, §6.2.2); both use a
// 128-bit AES master key and a 112-bit master salt.
const (
	SRTPAESCM128HMACSHA180 SRTPSuite = "AES_CM_128_HMAC_SHA1_80"
	SRTPAESCM128HMACSHA132 SRTPSuite = "AES_CM_128_HMAC_SHA1_32"
)

// SRTPKeyLen is the length of an SDES key: master key (16 bytes) followed by
// master salt (14 bytes), RFC 4568 §6.1.
const SRTPKeyLen = 30

// srtpReplayWindow is the replay-protection window in packets (libsrtp's
// default; our jitter buffer reorders far less than this).
const srtpReplayWindow = 128

// ParseSRTPSuite returns the suite named s (case-insensitive), or an error
// wrapping ErrSRTPKeys for a suite we don't implement.
func ParseSRTPSuite(s string) (SRTPSuite, error) {
	suite := SRTPSuite(strings.ToUpper(strings.TrimSpace(s)))
	if _, err := suite.profile(); err != nil {
		return "", err
	}
	return suite, nil
}

func (s SRTPSuite) profile() (srtp.ProtectionProfile, error) {
	switch s {
	case SRTPAESCM128HMACSHA180:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, nil
	case SRTPAESCM128HMACSHA132:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, nil
	}
	return 0, fmt.Errorf("%w: unsupported crypto suite %q", ErrSRTPKeys, string(s))
}

// AuthTagLen is the length in bytes of the suite's RTP authentication tag.
func (s SRTPSuite) AuthTagLen() int {
	if s == SRTPAESCM128HMACSHA132 {
		return 4
	}
	return 10
}

// NewSRTPKey returns a fresh random master key and salt (crypto/rand).
func NewSRTPKey() ([]byte, error) {
	k := make([]byte, SRTPKeyLen)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("%w: random key: %w", ErrSRTPKeys, err)
	}
	return k, nil
}

// SRTPKeys are the keys of one SRTP session (RFC 3711): each side sends
// with its own master key, so Local protects what we send and Remote
// unprotects what we receive.
type SRTPKeys struct {
	Suite  SRTPSuite
	Local  []byte // SRTPKeyLen bytes: master key || master salt
	Remote []byte // SRTPKeyLen bytes
}

// SRTP protects a Session's RTP packets (RFC 3711) with keys exchanged
// by SDES. Protect may only be called from one goroutine at a time, and
// Unprotect too (the Session's pacing loop and read loop); Rekey may be
// called from any goroutine.
type SRTP struct {
	tx, rx atomic.Pointer[srtp.Context]
	txHdr  rtp.Header
	rxHdr  rtp.Header
	txBuf  []byte

	mu   sync.Mutex
	keys SRTPKeys
}

// NewSRTP makes the SRTP contexts for k.
func NewSRTP(k SRTPKeys) (*SRTP, error) {
	s := &SRTP{txBuf: make([]byte, 0, maxDatagram)}
	if err := s.Rekey(k); err != nil {
		return nil, err
	}
	return s, nil
}

// Rekey switches to new keys (a re-INVITE changed them, RFC 4568 §7.1.4).
// Only the directions whose key or suite changed get a new context, so an
// unchanged direction keeps its rollover counter and replay window.
func (s *SRTP) Rekey(k SRTPKeys) error {
	profile, err := k.Suite.profile()
	if err != nil {
		return err
	}
	if len(k.Local) != SRTPKeyLen || len(k.Remote) != SRTPKeyLen {
		return fmt.Errorf("%w: keys must be %d bytes", ErrSRTPKeys, SRTPKeyLen)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	same := s.keys.Suite == k.Suite
	if !same || !bytes.Equal(s.keys.Local, k.Local) {
		ctx, err := srtp.CreateContext(k.Local[:16], k.Local[16:], profile)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSRTPKeys, err)
		}
		s.tx.Store(ctx)
	}
	if !same || !bytes.Equal(s.keys.Remote, k.Remote) {
		ctx, err := srtp.CreateContext(k.Remote[:16], k.Remote[16:], profile, srtp.SRTPReplayProtection(srtpReplayWindow))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSRTPKeys, err)
		}
		s.rx.Store(ctx)
	}
	s.keys = SRTPKeys{Suite: k.Suite, Local: bytes.Clone(k.Local), Remote: bytes.Clone(k.Remote)}
	return nil
}

// Suite is the crypto suite in use.
func (s *SRTP) Suite() SRTPSuite {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys.Suite
}

// Protect encrypts and authenticates an RTP packet. The result is valid
// until the next call.
func (s *SRTP) Protect(pkt []byte) ([]byte, error) {
	out, err := s.tx.Load().EncryptRTP(s.txBuf[:0], pkt, &s.txHdr)
	if err != nil {
		return nil, fmt.Errorf("media: SRTP protect: %w", err)
	}
	s.txBuf = out[:0]
	return out, nil
}

// Unprotect checks and decrypts an SRTP packet in place. A packet that
// fails authentication gives ErrSRTPAuth, a replayed one ErrSRTPReplay.
func (s *SRTP) Unprotect(pkt []byte) ([]byte, error) {
	out, err := s.rx.Load().DecryptRTP(pkt, pkt, &s.rxHdr)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, srtp.ErrFailedToVerifyAuthTag):
		return nil, ErrSRTPAuth
	case strings.Contains(err.Error(), "duplicated"): // pion does not export its replay error
		return nil, fmt.Errorf("%w: %v", ErrSRTPReplay, err)
	}
	return nil, fmt.Errorf("media: SRTP unprotect: %w", err)
}

// String names the transform for media chains and logs.
func (s *SRTP) String() string { return "SRTP(" + string(s.Suite()) + ")" }

// unprotect runs a received datagram through the session's PacketCrypto
// and counts what it refuses; ok is false when the packet is dropped.
func (s *Session) unprotect(b []byte) ([]byte, bool) {
	out, err := s.cfg.Crypto.Unprotect(b)
	if err == nil {
		return out, true
	}
	switch {
	case errors.Is(err, ErrSRTPAuth):
		if n := s.srtpAuthFails.Add(1); n&(n-1) == 0 { // log the 1st, 2nd, 4th, ...
			s.log.Warn("SRTP packet failed authentication; dropped", "count", n)
		}
	case errors.Is(err, ErrSRTPReplay):
		s.srtpReplays.Add(1)
	default:
		s.recvMu.Lock()
		s.rx.garbage++
		s.recvMu.Unlock()
	}
	return nil, false
}
