package store

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
	"unicode/utf8"
)

// SIPUser is a softphone account for SIP digest authentication
// (`ivr sipusers`). Only the digest hashes HA1 = H(name:realm:password)
// are stored, with MD5 and SHA-256; never the password.
type SIPUser struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Realm     string    `json:"realm"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// SIP user limits.
const (
	MinSIPPassword = 12 // digest hashes are fast: a long password is the defence
	MaxSIPPassword = 256
)

// validSIPName reports whether name is 1–64 characters of letters, digits
// and . _ - +, starting with a letter or digit: safe in a SIP URI user part
// and in a quoted digest username.
func validSIPName(name string) bool {
	if name == "" || len(name) > maxAgentName {
		return false
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			i > 0 && strings.ContainsRune("._-+", r)
		if !ok {
			return false
		}
	}
	return true
}

func digestHA1(h func() hash.Hash, name, realm, password string) string {
	d := h()
	d.Write([]byte(name + ":" + realm + ":" + password))
	return hex.EncodeToString(d.Sum(nil))
}

// AddSIPUser adds a SIP user for realm (which must be the realm `ivr serve`
// challenges with, --sip-realm). The name is unique (ErrDuplicate); the
// password has MinSIPPassword to MaxSIPPassword characters (ErrInvalid).
func (s *SQLite) AddSIPUser(ctx context.Context, name, realm, password string) (*SIPUser, error) {
	if !validSIPName(name) {
		return nil, fmt.Errorf("store: add sip user: %w: name %q: want 1–%d letters, digits and . _ - +", ErrInvalid, name, maxAgentName)
	}
	if realm == "" || strings.ContainsAny(realm, "\"\\\r\n") {
		return nil, fmt.Errorf("store: add sip user %s: %w: realm %q", name, ErrInvalid, realm)
	}
	if n := utf8.RuneCountInString(password); !utf8.ValidString(password) || n < MinSIPPassword || len(password) > MaxSIPPassword {
		return nil, fmt.Errorf("store: add sip user %s: %w: password must be %d to %d characters", name, ErrInvalid, MinSIPPassword, MaxSIPPassword)
	}
	created := s.now().UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO sip_users (name, realm, ha1_md5, ha1_sha256, created_at) VALUES (?, ?, ?, ?, ?)`,
		name, realm, digestHA1(md5.New, name, realm, password), digestHA1(sha256.New, name, realm, password), unixNano(created))
	if isUnique(err) {
		return nil, fmt.Errorf("store: add sip user %s: %w", name, ErrDuplicate)
	}
	if err != nil {
		return nil, fmt.Errorf("store: add sip user %s: %w", name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("store: add sip user %s: %w", name, err)
	}
	s.log.Info("store: sip user added", "sip_user", name, "realm", realm)
	return &SIPUser{ID: id, Name: name, Realm: realm, CreatedAt: created}, nil
}

// DigestHA1 returns the stored HA1 of an enabled user in realm (SHA-256
// when useSHA256, else MD5); ok is false for an unknown or disabled user or
// another realm. It implements sip.DigestUsers.
func (s *SQLite) DigestHA1(ctx context.Context, name, realm string, useSHA256 bool) (string, bool, error) {
	col := "ha1_md5"
	if useSHA256 {
		col = "ha1_sha256"
	}
	var ha1 string
	err := s.db.QueryRowContext(ctx, `SELECT `+col+` FROM sip_users WHERE name = ? AND realm = ? AND disabled = 0`,
		name, realm).Scan(&ha1)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: sip user %s: %w", name, err)
	}
	return ha1, true, nil
}

// ListSIPUsers returns every SIP user, by name.
func (s *SQLite) ListSIPUsers(ctx context.Context) ([]SIPUser, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, realm, disabled, created_at FROM sip_users ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list sip users: %w", err)
	}
	defer rows.Close()
	out := []SIPUser{}
	for rows.Next() {
		var u SIPUser
		var disabled, created int64
		if err := rows.Scan(&u.ID, &u.Name, &u.Realm, &disabled, &created); err != nil {
			return nil, fmt.Errorf("store: list sip users: %w", err)
		}
		u.Disabled, u.CreatedAt = disabled != 0, fromUnixNano(created)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list sip users: %w", err)
	}
	return out, nil
}

// SetSIPUserDisabled disables (or enables again) a SIP user, or returns
// ErrNotFound. A disabled user's next request is refused like an unknown
// user's.
func (s *SQLite) SetSIPUserDisabled(ctx context.Context, name string, disabled bool) error {
	flag := 0
	if disabled {
		flag = 1
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sip_users SET disabled = ? WHERE name = ?`, flag, name)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		return fmt.Errorf("store: set sip user %s disabled=%t: %w", name, disabled, err)
	}
	s.log.Info("store: sip user state changed", "sip_user", name, "disabled", disabled)
	return nil
}

// RemoveSIPUser deletes a SIP user, or returns ErrNotFound.
func (s *SQLite) RemoveSIPUser(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sip_users WHERE name = ?`, name)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		return fmt.Errorf("store: remove sip user %s: %w", name, err)
	}
	s.log.Info("store: sip user removed", "sip_user", name)
	return nil
}
