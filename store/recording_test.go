package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestSaveRecording: the recording is listed in the record whether it is
// saved before or after the bot's record, and survives a later SaveCall.
func TestSaveRecording(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	start := time.Date(2026, time.June, 1, 9, 0, 0, 0, time.UTC)
	r := Recording{Path: "/data/recordings/2026-06-01/c1.wav", Duration: 42 * time.Second,
		Paused: []PausedWindow{{3 * time.Second, 9 * time.Second}, {20 * time.Second, 31 * time.Second}}}
	tests := []struct {
		name        string
		recordFirst bool
	}{{"after the record", true}, {"before any record", false}}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := string(rune('a'+i)) + "@host"
			rec := &CallRecord{ID: id, Start: start, Outcome: "completed", Transcript: []Turn{}, Intents: []string{},
				DTMF: []string{}, Payments: []int64{}}
			if tc.recordFirst {
				if err := st.SaveCall(ctx, rec); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.SaveRecording(ctx, id, start, r); err != nil {
				t.Fatal(err)
			}
			if err := st.SaveCall(ctx, rec); err != nil { // saved again: keeps the recording
				t.Fatal(err)
			}
			got, err := st.Call(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got.Recording != r.Path || got.RecordingLength != r.Duration || !reflect.DeepEqual(got.RecordingPaused, r.Paused) {
				t.Errorf("record lists %q %v %v", got.Recording, got.RecordingLength, got.RecordingPaused)
			}
		})
	}
	var ms int64
	if err := st.db.QueryRowContext(ctx, `SELECT recording_paused_ms FROM calls WHERE id = 'a@host'`).Scan(&ms); err != nil || ms != 17000 {
		t.Errorf("recording_paused_ms %d, %v", ms, err)
	}
	if err := st.SaveRecording(ctx, "", start, r); !errors.Is(err, ErrInvalid) {
		t.Errorf("no call ID: %v", err)
	}
	if v, _ := st.SchemaVersion(ctx); v != migrations[len(migrations)-1].version {
		t.Errorf("schema version %d, want %d", v, migrations[len(migrations)-1].version)
	}
}
