package sip

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	gosip "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// SIP digest authentication, server side (RFC 3261 §22.4, RFC 7616 with
// qop=auth, RFC 8760 for SHA-256). Nonces are stateless: a timestamp and a
// random part signed with HMAC-SHA-256 over the client's address, so a
// restart or a nonce from another address only costs a stale=true
// re-challenge. Replays are caught by remembering the highest nc seen per
// nonce for the nonce's lifetime.

// Digest defaults.
const (
	DefaultNonceTTL = 5 * time.Minute // how long a nonce is good for
	DefaultRealm    = "ivr"
)

// DigestUsers looks up the stored digest hash of a SIP user: HA1 =
// H(user:realm:password) with MD5, or SHA-256 when sha256 is true, in hex.
// ok is false for an unknown or disabled user, or one stored for another
// realm. The password itself is never stored.
type DigestUsers interface {
	DigestHA1(ctx context.Context, user, realm string, sha256 bool) (ha1 string, ok bool, err error)
}

// AuthConfig configures digest authentication.
type AuthConfig struct {
	Realm    string        // default DefaultRealm
	Users    DigestUsers   // required
	NonceTTL time.Duration // default DefaultNonceTTL; older nonces get stale=true
	Secret   []byte        // nonce signing key; random when empty
	// MinExpires and MaxExpires bound REGISTER intervals (defaults
	// DefaultMinExpires, DefaultMaxExpires).
	MinExpires, MaxExpires time.Duration
	Now                    func() time.Time
	Log                    *slog.Logger
}

// authResult is the outcome of checking a request's credentials.
type authResult int

const (
	authNone   authResult = iota // no credentials: challenge
	authOK                       // good credentials, fresh nonce
	authStale                    // good credentials, nonce expired, foreign or replayed
	authFailed                   // wrong, unknown or malformed credentials
)

// authenticator checks digest credentials.
type authenticator struct {
	cfg   AuthConfig
	dummy []byte // keys the HA1 of unknown users

	mu  sync.Mutex
	ncs map[string]ncSeen // highest nc per nonce
}

type ncSeen struct {
	nc      int
	expires time.Time
}

const maxNonceEntries = 100000

func newAuthenticator(cfg AuthConfig) (*authenticator, error) {
	if cfg.Users == nil {
		return nil, errors.New("sip auth: no user store")
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if strings.ContainsAny(cfg.Realm, "\"\\\r\n") {
		return nil, fmt.Errorf("sip auth: realm %q: no quotes, backslashes or line breaks", cfg.Realm)
	}
	if cfg.NonceTTL <= 0 {
		cfg.NonceTTL = DefaultNonceTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	a := &authenticator{cfg: cfg, dummy: make([]byte, 32), ncs: make(map[string]ncSeen)}
	if len(a.cfg.Secret) == 0 {
		a.cfg.Secret = make([]byte, 32)
		if _, err := rand.Read(a.cfg.Secret); err != nil {
			return nil, fmt.Errorf("sip auth: nonce key: %w", err)
		}
	}
	if _, err := rand.Read(a.dummy); err != nil {
		return nil, fmt.Errorf("sip auth: %w", err)
	}
	return a, nil
}

// nonce makes a fresh nonce for ip.
func (a *authenticator) nonce(ip netip.Addr) string {
	var b [32]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.cfg.Now().UnixNano()))
	_, _ = rand.Read(b[8:16])
	copy(b[16:], a.mac(b[:16], ip))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (a *authenticator) mac(head []byte, ip netip.Addr) []byte {
	m := hmac.New(sha256.New, a.cfg.Secret)
	m.Write(head)
	m.Write(ip.AsSlice())
	return m.Sum(nil)[:16]
}

// fresh reports whether nonce is ours, for ip, and not expired.
func (a *authenticator) fresh(nonce string, ip netip.Addr) bool {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != 32 || !hmac.Equal(b[16:], a.mac(b[:16], ip)) {
		return false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	age := a.cfg.Now().Sub(issued)
	return age >= -time.Second && age <= a.cfg.NonceTTL
}

// challenges are the WWW-Authenticate headers for ip, SHA-256 first
// (RFC 8760 §2.4: in order of preference), then MD5 for older phones.
func (a *authenticator) challenges(ip netip.Addr, stale bool) []gosip.Header {
	n := a.nonce(ip)
	extra := ""
	if stale {
		extra = ", stale=true"
	}
	var hs []gosip.Header
	for _, alg := range []string{"SHA-256", "MD5"} {
		hs = append(hs, gosip.NewHeader("WWW-Authenticate",
			fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=%s, qop="auth"%s`, a.cfg.Realm, n, alg, extra)))
	}
	return hs
}

// check verifies req's Authorization header from ip; user is the
// authenticated name on authOK.
func (a *authenticator) check(req *gosip.Request, ip netip.Addr) (authResult, string) {
	h := req.GetHeader("Authorization")
	if h == nil {
		return authNone, ""
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		return authFailed, ""
	}
	newHash, sha, supported := hashFor(cred.Algorithm)
	// Do the same work for every failure: look the user up and hash, with
	// a dummy HA1 when there is none, so an unknown user looks (and takes
	// about as long) as a wrong password.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	ha1, ok, err := a.cfg.Users.DigestHA1(ctx, cred.Username, a.cfg.Realm, sha)
	cancel()
	if err != nil {
		a.cfg.Log.Warn("sip auth: user lookup failed", "user", cred.Username, "error", err)
		ok = false
	}
	if !ok {
		ha1 = hexHash(newHash(), string(a.dummy), cred.Username)
	}
	want := hexHash(newHash(), ha1, cred.Nonce, rawNC(h.Value(), cred.Nc), cred.Cnonce, "auth",
		hexHash(newHash(), req.Method.String(), cred.URI))
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(cred.Response))) == 1
	valid := ok && match && supported && cred.QOP == "auth" && cred.Realm == a.cfg.Realm && cred.Nc > 0
	if !valid {
		return authFailed, cred.Username
	}
	if !a.fresh(cred.Nonce, ip) || !a.advance(cred.Nonce, cred.Nc) {
		return authStale, cred.Username
	}
	return authOK, cred.Username
}

// rawNC is the nc parameter as the client wrote it (the response hash
// covers those exact 8 hex digits, in either case), else nc formatted.
func rawNC(header string, nc int) string {
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "nc") {
			if v = strings.Trim(strings.TrimSpace(v), `"`); len(v) == 8 {
				return v
			}
		}
	}
	return fmt.Sprintf("%08x", nc)
}

// advance records nc for nonce; false when it is not above the last one
// seen (a replay).
func (a *authenticator) advance(nonce string, nc int) bool {
	now := a.cfg.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.ncs[nonce]; ok && nc <= s.nc {
		return false
	}
	if len(a.ncs) >= maxNonceEntries {
		for k, s := range a.ncs {
			if now.After(s.expires) {
				delete(a.ncs, k)
			}
		}
	}
	a.ncs[nonce] = ncSeen{nc: nc, expires: now.Add(a.cfg.NonceTTL + time.Minute)}
	return true
}

// hashFor is the hash of a digest algorithm name and whether it is
// SHA-256; supported is false for one we do not take (its check then fails
// after the same work with MD5).
func hashFor(alg string) (h func() hash.Hash, sha, supported bool) {
	switch strings.ToUpper(alg) {
	case "", "MD5":
		return md5.New, false, true
	case "SHA-256":
		return sha256.New, true, true
	}
	return md5.New, false, false
}

// hexHash is hex(H(p1:p2:...)).
func hexHash(h hash.Hash, parts ...string) string {
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// DigestHA1 is the HA1 a user store keeps for user in realm with password:
// hex(MD5(user:realm:password)), or SHA-256 when sha256 is true.
func DigestHA1(user, realm, password string, useSHA256 bool) string {
	h := md5.New
	if useSHA256 {
		h = sha256.New
	}
	return hexHash(h(), user, realm, password)
}
