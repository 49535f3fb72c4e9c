package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// pinHashCost is the argon2id cost. The defaults are OWASP's minimum for
// argon2id (19 MiB, 2 passes, 1 lane): about 30 ms on one core here.
type pinHashCost struct {
	memoryKiB uint32
	time      uint32
	threads   uint8
}

var defaultPINHashCost = pinHashCost{memoryKiB: 19 * 1024, time: 2, threads: 1}

const (
	pinSaltLen = 16
	pinKeyLen  = 32
)

// validPIN reports whether pin is 4 to 8 ASCII digits.
func validPIN(pin string) bool {
	return len(pin) >= 4 && len(pin) <= 8 && allDigits(pin)
}

// hashPIN returns pin hashed with argon2id and a random salt, in the PHC
// string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash) so that the cost can
// change later and old hashes still verify.
func hashPIN(pin string, c pinHashCost) (string, error) {
	salt := make([]byte, pinSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("store: PIN salt: %w", err)
	}
	key := argon2.IDKey([]byte(pin), salt, c.time, c.memoryKiB, c.threads, pinKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.memoryKiB, c.time, c.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPIN reports whether pin matches the encoded hash. The comparison of
// the derived keys is constant-time.
func checkPIN(encoded, pin string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, fmt.Errorf("store: stored PIN hash has an unknown format")
	}
	var version int
	var c pinHashCost
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("store: stored PIN hash has an unknown argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &c.memoryKiB, &c.time, &c.threads); err != nil || c.time == 0 || c.threads == 0 {
		return false, fmt.Errorf("store: stored PIN hash has bad parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, fmt.Errorf("store: stored PIN hash is not valid base64")
	}
	got := argon2.IDKey([]byte(pin), salt, c.time, c.memoryKiB, c.threads, uint32(len(want)))
	return pinCompare(got, want) == 1, nil
}

// pinCompare compares derived keys in constant time; a variable so that a
// test can see it is the comparison used.
var pinCompare = subtle.ConstantTimeCompare

// VerifyPIN checks pin for the account and keeps the wrong-PIN count:
//
//   - locked at now → Locked, LockedUntil; no PIN is compared or counted;
//   - match → OK, the count is reset to 0, FailsLeft = maxFails;
//   - no match (a malformed PIN counts as one) → the count goes up; when it
//     reaches maxFails the account is locked until now+lockFor and the count
//     restarts at 0, so after the lock expires the caller has maxFails tries
//     again; otherwise FailsLeft says how many remain.
//
// The slow hash runs outside the transaction; the decision and the update
// are one IMMEDIATE transaction that reads the lock state again, so
// concurrent attempts are all counted and none gets past a lock set by
// another. The PIN is never logged.
func (s *SQLite) VerifyPIN(ctx context.Context, accountID int64, pin string, now time.Time, maxFails int, lockFor time.Duration) (PINResult, error) {
	if maxFails < 1 || lockFor <= 0 {
		return PINResult{}, fmt.Errorf("store: verify PIN: %w: maxFails %d, lockFor %v", ErrInvalid, maxFails, lockFor)
	}
	var hash string
	var lockedUntil int64
	err := s.db.QueryRowContext(ctx, `SELECT pin_hash, locked_until FROM accounts WHERE id = ?`, accountID).Scan(&hash, &lockedUntil)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return PINResult{}, fmt.Errorf("store: verify PIN: account %d: %w", accountID, err)
	}
	if until := fromUnixNano(lockedUntil); now.Before(until) {
		return PINResult{Locked: true, LockedUntil: until}, nil
	}
	ok := false
	if validPIN(pin) {
		if err := s.acquire(ctx); err != nil {
			return PINResult{}, fmt.Errorf("store: verify PIN: %w", err)
		}
		ok, err = checkPIN(hash, pin)
		s.release()
		if err != nil {
			return PINResult{}, fmt.Errorf("store: verify PIN: account %d: %w", accountID, err)
		}
	}
	var res PINResult
	lockedNow := false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var fails int
		if err := tx.QueryRowContext(ctx, `SELECT locked_until, failed_pins FROM accounts WHERE id = ?`, accountID).Scan(&lockedUntil, &fails); err != nil {
			return err
		}
		if until := fromUnixNano(lockedUntil); now.Before(until) {
			res = PINResult{Locked: true, LockedUntil: until}
			return nil
		}
		var until time.Time
		switch fails++; {
		case ok:
			fails = 0
			res = PINResult{OK: true, FailsLeft: maxFails}
		case fails >= maxFails:
			fails, until, lockedNow = 0, now.Add(lockFor), true
			res = PINResult{Locked: true, LockedUntil: until}
		default:
			res = PINResult{FailsLeft: maxFails - fails}
		}
		_, err := tx.ExecContext(ctx, `UPDATE accounts SET failed_pins = ?, locked_until = ? WHERE id = ?`, fails, unixNano(until), accountID)
		return err
	})
	if err != nil {
		return PINResult{}, fmt.Errorf("store: verify PIN: account %d: %w", accountID, err)
	}
	if lockedNow {
		s.log.Warn("store: account locked after wrong PINs", "account_id", accountID, "until", res.LockedUntil)
	}
	return res, nil
}
