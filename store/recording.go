package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// PausedWindow is a stretch of a call recording that holds silence
// because the caller was entering a PIN or card data; Start and End are
// offsets from the recording's start.
type PausedWindow struct {
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
}

// Recording is what the call record lists of a call's recording.
type Recording struct {
	Path     string
	Duration time.Duration
	Paused   []PausedWindow
}

// PausedFor is the total length of the paused windows.
func (r Recording) PausedFor() time.Duration {
	var d time.Duration
	for _, p := range r.Paused {
		d += p.End - p.Start
	}
	return d
}

// recordingColumns are the calls columns (table alias c) of a recording.
const recordingColumns = `c.recording, c.recording_ms, c.recording_paused`

// SaveRecording lists a call's recording in its record. The call's row is
// made when it does not exist yet (a flow that keeps no record); SaveCall
// later keeps what SaveRecording wrote.
func (s *SQLite) SaveRecording(ctx context.Context, callID string, start time.Time, r Recording) error {
	if callID == "" || r.Path == "" || r.Duration < 0 {
		return fmt.Errorf("store: save recording: %w: call ID and path are required", ErrInvalid)
	}
	paused := r.Paused
	if paused == nil {
		paused = []PausedWindow{}
	}
	pj, err := json.Marshal(paused)
	if err != nil {
		return fmt.Errorf("store: save recording of call %s: %w", callID, err)
	}
	doc, err := json.Marshal(&CallRecord{ID: callID, Start: start})
	if err != nil {
		return fmt.Errorf("store: save recording of call %s: %w", callID, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO calls (id, start, record, recording, recording_ms, recording_paused_ms, recording_paused)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET recording = excluded.recording, recording_ms = excluded.recording_ms,
			recording_paused_ms = excluded.recording_paused_ms, recording_paused = excluded.recording_paused`,
		callID, unixNano(start), string(doc), r.Path, r.Duration.Milliseconds(), r.PausedFor().Milliseconds(), string(pj))
	if err != nil {
		return fmt.Errorf("store: save recording of call %s: %w", callID, err)
	}
	return nil
}

// recordingCols scans the recordingColumns.
type recordingCols struct {
	path   string
	ms     int64
	paused string
}

func (c *recordingCols) dest() []any { return []any{&c.path, &c.ms, &c.paused} }

// fill puts the recording into rec.
func (c *recordingCols) fill(rec *CallRecord) error {
	if c.path == "" {
		return nil
	}
	rec.Recording, rec.RecordingLength = c.path, time.Duration(c.ms)*time.Millisecond
	if err := json.Unmarshal([]byte(c.paused), &rec.RecordingPaused); err != nil {
		return fmt.Errorf("decode recording pauses: %w", err)
	}
	return nil
}
