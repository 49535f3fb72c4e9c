package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Handover reasons.
const (
	HandoverAsked       = "asked"
	HandoverFrustration = "frustration"
	HandoverBotFailed   = "bot_failed"
)

// CallRecord is what happened in one call. It is stored as its JSON (the
// tags below are the storage format: add fields, never rename them).
type CallRecord struct {
	// ID is the SIP Call-ID.
	ID            string    `json:"id"`
	From          string    `json:"from"`
	To            string    `json:"to"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end,omitzero"`
	AccountNumber string    `json:"account_number,omitempty"`
	Verified      bool      `json:"verified"`
	Transcript    []Turn    `json:"transcript"`
	Intents       []string  `json:"intents"`
	// DTMF are the keys pressed, with PIN and card digits already masked by
	// the caller of SaveCall.
	DTMF     []string  `json:"dtmf"`
	Outcome  string    `json:"outcome"`
	Handover *Handover `json:"handover,omitempty"`
	Payments []int64   `json:"payments"`
	// Recording is the call's recording file, RecordingLength the audio
	// in it and RecordingPaused its silent windows (PIN and card entry),
	// saved with SaveRecording and filled in by Call and Calls (what
	// SaveRecording saved wins over what a SaveCall record says).
	Recording       string         `json:"recording,omitempty"`
	RecordingLength time.Duration  `json:"recording_length,omitempty"`
	RecordingPaused []PausedWindow `json:"recording_paused,omitempty"`
	// WrapUp is the agent's wrap-up, saved with SaveWrapUp and filled in by
	// Call and Calls; SaveCall does not store it.
	WrapUp *WrapUp `json:"wrap_up,omitempty"`
}

// Turn is one utterance or key sequence in a call.
type Turn struct {
	// At is the time since the call's start.
	At time.Duration `json:"at"`
	// Who is "caller" or "bot".
	Who        string  `json:"who"`
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence,omitempty"`
	Intent     string  `json:"intent,omitempty"`
	// Input is "speech" or "dtmf" for the caller's turns.
	Input string `json:"input,omitempty"`
}

// Handover says why and when the call went to a person.
type Handover struct {
	// Reason is HandoverAsked, HandoverFrustration or HandoverBotFailed.
	Reason string        `json:"reason"`
	Detail string        `json:"detail,omitempty"`
	At     time.Duration `json:"at"`
}

// SaveCall inserts or replaces the record with rec.ID in one statement, so
// it can be called mid-call and again at the end; the last save wins.
func (s *SQLite) SaveCall(ctx context.Context, rec *CallRecord) error {
	if rec == nil || rec.ID == "" {
		return fmt.Errorf("store: save call: %w: no Call-ID", ErrInvalid)
	}
	bare := *rec
	bare.WrapUp = nil
	doc, err := json.Marshal(&bare)
	if err != nil {
		return fmt.Errorf("store: save call %s: %w", rec.ID, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO calls (id, start, account_number, outcome, record) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET start = excluded.start, account_number = excluded.account_number,
			outcome = excluded.outcome, record = excluded.record`,
		rec.ID, unixNano(rec.Start), rec.AccountNumber, rec.Outcome, string(doc))
	if err != nil {
		return fmt.Errorf("store: save call %s: %w", rec.ID, err)
	}
	return nil
}

func scanCall(row scanner) (*CallRecord, error) {
	var doc []byte
	var w nullWrapUp
	var rc recordingCols
	if err := row.Scan(append(append([]any{&doc}, w.dest()...), rc.dest()...)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	var rec CallRecord
	if err := json.Unmarshal(doc, &rec); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	rec.WrapUp = w.wrapUp()
	if err := rc.fill(&rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// Call returns the record with the Call-ID id, or ErrNotFound.
func (s *SQLite) Call(ctx context.Context, id string) (*CallRecord, error) {
	rec, err := scanCall(s.db.QueryRowContext(ctx, `SELECT c.record, `+wrapUpColumns+`, `+recordingColumns+` FROM calls c
		LEFT JOIN call_wrapups w ON w.call_id = c.id WHERE c.id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("store: call %s: %w", id, err)
	}
	return rec, nil
}

// Calls returns up to limit records, newest start first (limit ≤ 0: all).
func (s *SQLite) Calls(ctx context.Context, limit int) ([]CallRecord, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.record, `+wrapUpColumns+`, `+recordingColumns+` FROM calls c
		LEFT JOIN call_wrapups w ON w.call_id = c.id ORDER BY c.start DESC, c.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: calls: %w", err)
	}
	defer rows.Close()
	out := []CallRecord{}
	for rows.Next() {
		rec, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("store: calls: %w", err)
		}
		out = append(out, *rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: calls: %w", err)
	}
	return out, nil
}
