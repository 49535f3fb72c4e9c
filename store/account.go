package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Account is a customer account as the dialog sees it. It never holds the
// PIN or its hash.
type Account struct {
	ID         int64    `json:"id"`
	Number     string   `json:"number"`
	Phones     []string `json:"phones"`
	Balance    Money    `json:"balance"`
	NextAmount Money    `json:"next_amount"`
	// NextDue is a date (midnight UTC); zero when nothing is due.
	NextDue     time.Time `json:"next_due,omitzero"`
	CardLast4   string    `json:"card_last4"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	FailedPINs  int       `json:"failed_pins"`
	CreatedAt   time.Time `json:"created_at"`
}

// Locked reports whether the account is locked at now.
func (a *Account) Locked(now time.Time) bool { return now.Before(a.LockedUntil) }

// NewAccount is what AddAccount needs. PIN is 4–8 digits; it is hashed and
// then dropped. String and LogValue leave the PIN out.
type NewAccount struct {
	Number     string
	Phones     []string
	PIN        string
	Balance    Money
	NextAmount Money
	NextDue    time.Time
	CardLast4  string
}

// String describes n without its PIN.
func (n NewAccount) String() string {
	return fmt.Sprintf("account %s phones %v balance %s next %s due %s card ****%s",
		n.Number, n.Phones, n.Balance, n.NextAmount, n.NextDue.Format(time.DateOnly), n.CardLast4)
}

// LogValue logs n without its PIN.
func (n NewAccount) LogValue() slog.Value {
	return slog.GroupValue(slog.String("number", n.Number), slog.Any("phones", n.Phones))
}

// PINResult is the outcome of VerifyPIN.
type PINResult struct {
	// OK is true when the PIN matched (and the fail count was reset).
	OK bool
	// Locked is true when the account is locked, before this attempt or
	// because of it; no PIN was compared in the first case.
	Locked      bool
	LockedUntil time.Time
	// FailsLeft is the number of wrong PINs still allowed before the lock.
	FailsLeft int
}

// NormalizePhone returns phone in E.164 form: "+" then 6 to 15 digits, with
// spaces, dashes, dots and parentheses removed.
func NormalizePhone(phone string) (string, error) {
	p := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -.()", r) {
			return -1
		}
		return r
	}, phone)
	d, ok := strings.CutPrefix(p, "+")
	if !ok || len(d) < 6 || len(d) > 15 || !allDigits(d) {
		return "", fmt.Errorf("%w: phone %q: want E.164, e.g. +15550100", ErrInvalid, phone)
	}
	return p, nil
}

// validate checks n and returns it normalized (phones in E.164, the due
// date truncated to a UTC date).
func (n NewAccount) validate() (NewAccount, error) {
	bad := func(format string, a ...any) (NewAccount, error) {
		return NewAccount{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
	}
	if len(n.Number) < 4 || len(n.Number) > 16 || !allDigits(n.Number) {
		return bad("account number %q: want 4 to 16 digits", n.Number)
	}
	if !validPIN(n.PIN) {
		return bad("PIN: want 4 to 8 digits")
	}
	if len(n.CardLast4) != 4 || !allDigits(n.CardLast4) {
		return bad("card last four %q: want exactly 4 digits", n.CardLast4)
	}
	if !validCurrency(n.Balance.Currency) || n.Balance.Minor < 0 {
		return bad("balance %s: want a currency and an amount of zero or more", n.Balance)
	}
	if n.NextAmount.Currency != n.Balance.Currency || n.NextAmount.Minor < 0 || n.NextAmount.Minor > n.Balance.Minor {
		return bad("next amount %s: want zero up to the balance %s", n.NextAmount, n.Balance)
	}
	if n.NextAmount.Minor > 0 && n.NextDue.IsZero() {
		return bad("next due date: needed when a next amount is due")
	}
	seen := map[string]bool{}
	var phones []string
	for _, p := range n.Phones {
		np, err := NormalizePhone(p)
		if err != nil {
			return NewAccount{}, err
		}
		if !seen[np] {
			seen[np] = true
			phones = append(phones, np)
		}
	}
	n.Phones = phones
	n.NextDue = dateOf(n.NextDue)
	return n, nil
}

// dateOf truncates t to its calendar date at midnight UTC.
func dateOf(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

// AddAccount validates a, hashes its PIN and adds the account with its
// phones in one transaction. A taken number or phone is ErrDuplicate.
func (s *SQLite) AddAccount(ctx context.Context, a NewAccount) (*Account, error) {
	a, err := a.validate()
	if err != nil {
		return nil, fmt.Errorf("store: add account: %w", err)
	}
	hash, err := s.hash(ctx, a.PIN)
	if err != nil {
		return nil, fmt.Errorf("store: add account %s: %w", a.Number, err)
	}
	var id int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO accounts
			(number, pin_hash, currency, balance_minor, next_amount_minor, next_due, card_last4, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Number, hash, a.Balance.Currency, a.Balance.Minor, a.NextAmount.Minor, formatDate(a.NextDue),
			a.CardLast4, s.now().UnixNano())
		if isUnique(err) {
			return fmt.Errorf("%w: account number %s", ErrDuplicate, a.Number)
		}
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		for _, p := range a.Phones {
			_, err := tx.ExecContext(ctx, `INSERT INTO account_phones (phone, account_id) VALUES (?, ?)`, p, id)
			if isUnique(err) {
				return fmt.Errorf("%w: phone %s belongs to another account", ErrDuplicate, p)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: add account %s: %w", a.Number, err)
	}
	s.log.Info("store: account added", "account", a.Number, "phones", len(a.Phones))
	return s.account(ctx, "a.id = ?", id)
}

// hash hashes pin, at most a few at a time (each holds the memory cost).
func (s *SQLite) hash(ctx context.Context, pin string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return hashPIN(pin, s.cost)
}

func (s *SQLite) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *SQLite) release() { <-s.hashing }

const accountColumns = `a.id, a.number, a.currency, a.balance_minor, a.next_amount_minor, a.next_due,
	a.card_last4, a.locked_until, a.failed_pins, a.created_at,
	COALESCE((SELECT group_concat(p.phone, ',' ORDER BY p.rowid) FROM account_phones p WHERE p.account_id = a.id), '')`

type scanner interface{ Scan(dest ...any) error }

func scanAccount(row scanner) (*Account, error) {
	var a Account
	var cur, due, phones string
	var locked, created int64
	err := row.Scan(&a.ID, &a.Number, &cur, &a.Balance.Minor, &a.NextAmount.Minor, &due,
		&a.CardLast4, &locked, &a.FailedPINs, &created, &phones)
	if err != nil {
		return nil, err
	}
	a.Balance.Currency, a.NextAmount.Currency = cur, cur
	if a.NextDue, err = parseDate(due); err != nil {
		return nil, fmt.Errorf("account %s: next_due %q: %w", a.Number, due, err)
	}
	a.LockedUntil, a.CreatedAt = fromUnixNano(locked), fromUnixNano(created)
	a.Phones = []string{}
	if phones != "" {
		a.Phones = strings.Split(phones, ",")
	}
	return &a, nil
}

// account reads one account matching where (over accounts a).
func (s *SQLite) account(ctx context.Context, where string, args ...any) (*Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return a, err
}

// AccountByNumber returns the account with number, or ErrNotFound.
func (s *SQLite) AccountByNumber(ctx context.Context, number string) (*Account, error) {
	a, err := s.account(ctx, "a.number = ?", number)
	if err != nil {
		return nil, fmt.Errorf("store: account by number: %w", err)
	}
	return a, nil
}

// AccountByPhone returns the account that has phone, or ErrNotFound. The
// phone is normalized first; a caller ID of digits without "+" (as some
// trunks send) is tried with "+" in front. Anything that is not a phone
// number ("anonymous") is ErrNotFound.
func (s *SQLite) AccountByPhone(ctx context.Context, phone string) (*Account, error) {
	p, err := NormalizePhone(phone)
	if err != nil {
		p, err = NormalizePhone("+" + phone)
	}
	if err != nil {
		return nil, fmt.Errorf("store: account by phone: %w", ErrNotFound)
	}
	a, err := s.account(ctx, "a.id = (SELECT account_id FROM account_phones WHERE phone = ?)", p)
	if err != nil {
		return nil, fmt.Errorf("store: account by phone: %w", err)
	}
	return a, nil
}

// ListAccounts returns every account ordered by number.
func (s *SQLite) ListAccounts(ctx context.Context) ([]Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts a ORDER BY a.number`)
	if err != nil {
		return nil, fmt.Errorf("store: list accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list accounts: %w", err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list accounts: %w", err)
	}
	return out, nil
}

// Unlock clears the lock and the wrong-PIN count of the account with number.
func (s *SQLite) Unlock(ctx context.Context, number string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE accounts SET locked_until = 0, failed_pins = 0 WHERE number = ?`, number)
	if err != nil {
		return fmt.Errorf("store: unlock %s: %w", number, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("store: unlock %s: %w", number, ErrNotFound)
	}
	s.log.Info("store: account unlocked", "account", number)
	return nil
}
