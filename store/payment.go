package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// PaymentCompleted is the status of a payment that was taken. (There is no
// card processor behind this store yet; a real one would be called with the
// idempotency key inside MakePayment's transaction boundary.)
const PaymentCompleted = "completed"

// Payment is one payment taken from the card on file.
type Payment struct {
	ID             int64     `json:"id"`
	AccountID      int64     `json:"account_id"`
	Amount         Money     `json:"amount"`
	CardLast4      string    `json:"card_last4"`
	Status         string    `json:"status"`
	Confirmation   string    `json:"confirmation"`
	IdempotencyKey string    `json:"idempotency_key"`
	CreatedAt      time.Time `json:"created_at"`
}

// PaymentRequest asks MakePayment for a payment.
type PaymentRequest struct {
	AccountID int64
	Amount    Money
	// CardLast4 must be the card on file; empty means the card on file.
	// With KeyedCard it is the last four of a card the caller keyed in on
	// the call (its full number is never given to the store).
	CardLast4 string
	KeyedCard bool
	// IdempotencyKey makes the payment happen once: the dialog derives it
	// from the call and the confirmed request (e.g. Call-ID + step), so a
	// repeated "yes" or a retry after a dropped call gives the same payment.
	IdempotencyKey string
	// Now is the payment time (zero: the store's clock).
	Now time.Time
	// CallID is the call the payment is made in, for the log only.
	CallID string
}

// confirmationLen is 8 decimal digits: the bot reads a confirmation code
// back digit by digit, and the prompt catalog has clips for digits only (a
// letter would be dropped from what the caller hears).
const confirmationLen = 8

// confirmationSpace is the number of confirmation codes, 10^8.
const confirmationSpace = 100_000_000

// newConfirmation draws a confirmation code; a variable so that a test can
// force a collision.
var newConfirmation = randomConfirmation

// randomConfirmation returns confirmationLen random decimal digits
// (leading zeros kept), uniformly distributed.
func randomConfirmation() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(confirmationSpace))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", confirmationLen, n.Int64()), nil
}

// confirmationTries is how many confirmation codes a payment draws before
// a collision with existing payments is an error.
const confirmationTries = 10

// addMonth returns the same day of the next month, clamped to that month's
// last day (January 31 → February 28 or 29).
func addMonth(d time.Time) time.Time {
	y, m, day := d.Date()
	first := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(day, last), 0, 0, 0, 0, time.UTC)
}

// MakePayment takes a payment from the card on file, exactly once per
// idempotency key: a repeated key returns the first payment (and changes
// nothing); the same key with another account, amount, currency or card is
// ErrIdempotencyConflict. Refused with nothing changed: amount ≤ 0
// (ErrBadAmount), above the balance (ErrExceedsBalance), another currency
// (ErrCurrencyMismatch), another card (ErrCardMismatch), a locked account
// (ErrAccountLocked), no such account (ErrNotFound).
//
// In the same transaction the balance goes down by the amount and the
// schedule moves on by this rule:
//   - the balance reaches zero: nothing is due any more (NextAmount 0, no
//     NextDue);
//   - else the amount covers the next installment (≥ NextAmount): NextDue
//     moves one month on (same day, clamped to the month's end); paying
//     several installments' worth still moves it by one month;
//   - else (a partial payment): NextDue and NextAmount stay;
//   - NextAmount is then capped at the remaining balance.
//
// Every error wraps ErrPaymentNotMade: the transaction was rolled back and no
// money moved, so the caller must not be told the payment was made, and a
// retry with the same key is safe.
func (s *SQLite) MakePayment(ctx context.Context, req PaymentRequest) (*Payment, error) {
	p, err := s.makePayment(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("store: %w: account %d: %w", ErrPaymentNotMade, req.AccountID, err)
	}
	return p, nil
}

func (s *SQLite) makePayment(ctx context.Context, req PaymentRequest) (*Payment, error) {
	switch {
	case req.IdempotencyKey == "" || len(req.IdempotencyKey) > 200:
		return nil, fmt.Errorf("%w: idempotency key: want 1 to 200 bytes", ErrInvalid)
	case req.Amount.Minor <= 0:
		return nil, fmt.Errorf("%w: %s", ErrBadAmount, req.Amount)
	case req.CardLast4 != "" && (len(req.CardLast4) != 4 || !allDigits(req.CardLast4)):
		return nil, fmt.Errorf("%w: card last four: want 4 digits", ErrInvalid)
	case req.KeyedCard && req.CardLast4 == "":
		return nil, fmt.Errorf("%w: a keyed card needs its last four", ErrInvalid)
	}
	if req.Now.IsZero() {
		req.Now = s.now()
	}
	var pay *Payment
	replay := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		prev, err := paymentWhere(ctx, tx, "idempotency_key = ?", req.IdempotencyKey)
		if err == nil {
			pay, replay = prev, true
			return samePayment(prev, req)
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		pay, err = s.insertPayment(ctx, tx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	if replay {
		s.log.Info("store: payment replayed", "call_id", req.CallID, "payment_id", pay.ID, "account_id", pay.AccountID)
	} else {
		s.log.Info("store: payment made", "call_id", req.CallID, "payment_id", pay.ID, "account_id", pay.AccountID,
			"amount", pay.Amount.String(), "confirmation", pay.Confirmation)
	}
	return pay, nil
}

// samePayment checks that a payment found by idempotency key is the one req
// asks for.
func samePayment(p *Payment, req PaymentRequest) error {
	if p.AccountID != req.AccountID || p.Amount != req.Amount || (req.CardLast4 != "" && req.CardLast4 != p.CardLast4) {
		return fmt.Errorf("%w: payment %d", ErrIdempotencyConflict, p.ID)
	}
	return nil
}

// insertPayment checks the account, moves the money and records the payment
// (inside the caller's transaction).
func (s *SQLite) insertPayment(ctx context.Context, tx *sql.Tx, req PaymentRequest) (*Payment, error) {
	var (
		cur, due, card     string
		balance, next, lck int64
	)
	err := tx.QueryRowContext(ctx, `SELECT currency, balance_minor, next_amount_minor, next_due, card_last4, locked_until
		FROM accounts WHERE id = ?`, req.AccountID).Scan(&cur, &balance, &next, &due, &card, &lck)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	switch {
	case req.Now.Before(fromUnixNano(lck)):
		return nil, ErrAccountLocked
	case req.Amount.Currency != cur:
		return nil, fmt.Errorf("%w: %s, account in %s", ErrCurrencyMismatch, req.Amount.Currency, cur)
	case req.CardLast4 != "" && req.CardLast4 != card && !req.KeyedCard:
		return nil, ErrCardMismatch
	case req.Amount.Minor > balance:
		return nil, fmt.Errorf("%w: %s > %s", ErrExceedsBalance, req.Amount, Money{balance, cur})
	}
	nextDue, err := parseDate(due)
	if err != nil {
		return nil, fmt.Errorf("next_due %q: %w", due, err)
	}
	newBalance := balance - req.Amount.Minor
	switch {
	case newBalance == 0:
		next, nextDue = 0, time.Time{}
	case next > 0 && req.Amount.Minor >= next && !nextDue.IsZero():
		nextDue = addMonth(nextDue)
	}
	next = min(next, newBalance)
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET balance_minor = ?, next_amount_minor = ?, next_due = ?
		WHERE id = ? AND balance_minor = ?`, newBalance, next, formatDate(nextDue), req.AccountID, balance)
	if err != nil {
		return nil, fmt.Errorf("update balance: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, fmt.Errorf("update balance: %d rows, %v", n, err)
	}
	if req.KeyedCard {
		card = req.CardLast4
	}
	p := &Payment{AccountID: req.AccountID, Amount: req.Amount, CardLast4: card, Status: PaymentCompleted,
		IdempotencyKey: req.IdempotencyKey, CreatedAt: req.Now.UTC()}
	for range confirmationTries { // a confirmation collision (1 in 10^8 per pair) just draws again
		if p.Confirmation, err = newConfirmation(); err != nil {
			return nil, fmt.Errorf("confirmation: %w", err)
		}
		res, err = tx.ExecContext(ctx, `INSERT INTO payments
			(account_id, amount_minor, currency, card_last4, status, confirmation, idempotency_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, p.AccountID, p.Amount.Minor, p.Amount.Currency, p.CardLast4,
			p.Status, p.Confirmation, p.IdempotencyKey, unixNano(p.CreatedAt))
		if !isUnique(err) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("insert payment: %w", err)
	}
	if p.ID, err = res.LastInsertId(); err != nil {
		return nil, fmt.Errorf("insert payment: %w", err)
	}
	return p, nil
}

const paymentColumns = `id, account_id, amount_minor, currency, card_last4, status, confirmation, idempotency_key, created_at`

func scanPayment(row scanner) (*Payment, error) {
	var p Payment
	var created int64
	err := row.Scan(&p.ID, &p.AccountID, &p.Amount.Minor, &p.Amount.Currency, &p.CardLast4, &p.Status,
		&p.Confirmation, &p.IdempotencyKey, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p.CreatedAt = fromUnixNano(created)
	return &p, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func paymentWhere(ctx context.Context, q querier, where string, args ...any) (*Payment, error) {
	return scanPayment(q.QueryRowContext(ctx, `SELECT `+paymentColumns+` FROM payments WHERE `+where, args...))
}

// LastPayment returns the account's most recent payment, or ErrNotFound.
func (s *SQLite) LastPayment(ctx context.Context, accountID int64) (*Payment, error) {
	p, err := paymentWhere(ctx, s.db, "account_id = ? ORDER BY id DESC LIMIT 1", accountID)
	if err != nil {
		return nil, fmt.Errorf("store: last payment of account %d: %w", accountID, err)
	}
	return p, nil
}

// Payments returns up to limit of the account's payments, newest first
// (limit ≤ 0: all).
func (s *SQLite) Payments(ctx context.Context, accountID int64, limit int) ([]Payment, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+paymentColumns+` FROM payments WHERE account_id = ?
		ORDER BY id DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: payments of account %d: %w", accountID, err)
	}
	defer rows.Close()
	out := []Payment{}
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return nil, fmt.Errorf("store: payments of account %d: %w", accountID, err)
		}
		out = append(out, *p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: payments of account %d: %w", accountID, err)
	}
	return out, nil
}
