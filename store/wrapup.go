package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// WrapUp is what the agent noted after a bridged call: their name, a
// disposition (e.g. "resolved", "callback", "escalated") and free notes. It is
// kept beside the call record and shown with it (CallRecord.WrapUp).
type WrapUp struct {
	Agent       string    `json:"agent"`
	Disposition string    `json:"disposition"`
	Notes       string    `json:"notes,omitempty"`
	At          time.Time `json:"at"`
}

// Wrap-up limits.
const (
	maxDisposition = 64
	maxWrapUpNotes = 4000
)

// SaveWrapUp stores the wrap-up of the call callID, replacing an earlier one
// for the same call. It does not need the call record to exist yet (the bot
// may save the record after the agent wrapped up); Call and Calls join it in.
// Agent and Disposition are needed; Notes may be up to 4000 characters; At
// defaults to now.
func (s *SQLite) SaveWrapUp(ctx context.Context, callID string, w WrapUp) error {
	switch {
	case callID == "" || len(callID) > maxCallbackField:
		return fmt.Errorf("store: save wrap-up: %w: call ID must be 1 to %d bytes", ErrInvalid, maxCallbackField)
	case w.Agent == "" || len(w.Agent) > maxAgentName:
		return fmt.Errorf("store: save wrap-up of call %s: %w: agent name must be 1 to %d bytes", callID, ErrInvalid, maxAgentName)
	case w.Disposition == "" || len(w.Disposition) > maxDisposition:
		return fmt.Errorf("store: save wrap-up of call %s: %w: disposition must be 1 to %d bytes", callID, ErrInvalid, maxDisposition)
	case !utf8.ValidString(w.Notes) || utf8.RuneCountInString(w.Notes) > maxWrapUpNotes:
		return fmt.Errorf("store: save wrap-up of call %s: %w: notes must be UTF-8 of at most %d characters", callID, ErrInvalid, maxWrapUpNotes)
	}
	if w.At.IsZero() {
		w.At = s.now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO call_wrapups (call_id, agent, disposition, notes, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (call_id) DO UPDATE SET agent = excluded.agent, disposition = excluded.disposition,
			notes = excluded.notes, at = excluded.at`,
		callID, w.Agent, w.Disposition, w.Notes, unixNano(w.At))
	if err != nil {
		return fmt.Errorf("store: save wrap-up of call %s: %w", callID, err)
	}
	return nil
}

// wrapUpColumns are the call_wrapups columns (table alias w) that Call and
// Calls select after the record, NULL when there is no wrap-up.
const wrapUpColumns = `w.agent, w.disposition, w.notes, w.at`

// nullWrapUp scans the wrapUpColumns of a LEFT JOIN.
type nullWrapUp struct {
	agent, disposition, notes *string
	at                        *int64
}

func (n *nullWrapUp) dest() []any { return []any{&n.agent, &n.disposition, &n.notes, &n.at} }

// wrapUp is the scanned wrap-up, or nil when the join found none.
func (n *nullWrapUp) wrapUp() *WrapUp {
	if n.agent == nil || n.disposition == nil || n.notes == nil || n.at == nil {
		return nil
	}
	return &WrapUp{Agent: *n.agent, Disposition: *n.disposition, Notes: *n.notes, At: fromUnixNano(*n.at)}
}
