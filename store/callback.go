package store

import (
	"context"
	"fmt"
	"time"
)

// Callback is a caller's request to be called back instead of waiting for an
// agent.
type Callback struct {
	ID            int64     `json:"id"`
	CallID        string    `json:"call_id"`
	Phone         string    `json:"phone"`
	AccountNumber string    `json:"account_number,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	Done          bool      `json:"done"`
}

// Callback field limits.
const (
	maxCallbackField  = 256
	maxCallbackReason = 1000
)

// AddCallback stores a callback request. CallID and Phone are needed (the
// phone as the caller ID came, which need not be E.164); CreatedAt defaults
// to now and Done is ignored (a new request is open). It returns the stored
// request with its ID.
func (s *SQLite) AddCallback(ctx context.Context, cb Callback) (*Callback, error) {
	switch {
	case cb.CallID == "" || len(cb.CallID) > maxCallbackField:
		return nil, fmt.Errorf("store: add callback: %w: call ID must be 1 to %d bytes", ErrInvalid, maxCallbackField)
	case cb.Phone == "" || len(cb.Phone) > maxCallbackField:
		return nil, fmt.Errorf("store: add callback for call %s: %w: phone must be 1 to %d bytes", cb.CallID, ErrInvalid, maxCallbackField)
	case len(cb.AccountNumber) > maxCallbackField || len(cb.Reason) > maxCallbackReason:
		return nil, fmt.Errorf("store: add callback for call %s: %w: account number or reason too long", cb.CallID, ErrInvalid)
	}
	if cb.CreatedAt.IsZero() {
		cb.CreatedAt = s.now()
	}
	cb.CreatedAt, cb.Done = cb.CreatedAt.UTC(), false
	res, err := s.db.ExecContext(ctx, `INSERT INTO callbacks (call_id, phone, account_number, reason, created_at)
		VALUES (?, ?, ?, ?, ?)`, cb.CallID, cb.Phone, cb.AccountNumber, cb.Reason, unixNano(cb.CreatedAt))
	if err != nil {
		return nil, fmt.Errorf("store: add callback for call %s: %w", cb.CallID, err)
	}
	if cb.ID, err = res.LastInsertId(); err != nil {
		return nil, fmt.Errorf("store: add callback for call %s: %w", cb.CallID, err)
	}
	return &cb, nil
}

// Callbacks returns the open callback requests, oldest first, and the done
// ones too when includeDone.
func (s *SQLite) Callbacks(ctx context.Context, includeDone bool) ([]Callback, error) {
	q := `SELECT id, call_id, phone, account_number, reason, created_at, done FROM callbacks`
	if !includeDone {
		q += ` WHERE done = 0`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: callbacks: %w", err)
	}
	defer rows.Close()
	out := []Callback{}
	for rows.Next() {
		var cb Callback
		var created, done int64
		if err := rows.Scan(&cb.ID, &cb.CallID, &cb.Phone, &cb.AccountNumber, &cb.Reason, &created, &done); err != nil {
			return nil, fmt.Errorf("store: callbacks: %w", err)
		}
		cb.CreatedAt, cb.Done = fromUnixNano(created), done != 0
		out = append(out, cb)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: callbacks: %w", err)
	}
	return out, nil
}

// SetCallbackDone marks the callback request id done (or open again), or
// returns ErrNotFound.
func (s *SQLite) SetCallbackDone(ctx context.Context, id int64, done bool) error {
	flag := 0
	if done {
		flag = 1
	}
	res, err := s.db.ExecContext(ctx, `UPDATE callbacks SET done = ? WHERE id = ?`, flag, id)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		return fmt.Errorf("store: callback %d done=%t: %w", id, done, err)
	}
	return nil
}
