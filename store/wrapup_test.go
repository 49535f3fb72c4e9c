package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSaveWrapUp(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	st := openTemp(t, WithClock(func() time.Time { return now }))
	ctx := context.Background()
	rec := &CallRecord{ID: "call-1", From: "+15550100", Start: now.Add(-5 * time.Minute), Outcome: "agent"}
	if err := st.SaveCall(ctx, rec); err != nil {
		t.Fatal(err)
	}
	at := now.Add(-time.Minute)
	tests := []struct {
		name    string
		callID  string
		w       WrapUp
		wantErr error
		want    *WrapUp // read back from Call(callID)
	}{
		{"first", "call-1", WrapUp{Agent: "alice", Disposition: "resolved", Notes: "paid <b>in</b> full", At: at}, nil,
			&WrapUp{Agent: "alice", Disposition: "resolved", Notes: "paid <b>in</b> full", At: at}},
		{"replaces, default time", "call-1", WrapUp{Agent: "alice", Disposition: "callback"}, nil,
			&WrapUp{Agent: "alice", Disposition: "callback", At: now}},
		{"no agent", "call-1", WrapUp{Disposition: "x"}, ErrInvalid, nil},
		{"no disposition", "call-1", WrapUp{Agent: "alice"}, ErrInvalid, nil},
		{"notes too long", "call-1", WrapUp{Agent: "a", Disposition: "x", Notes: strings.Repeat("n", 4001)}, ErrInvalid, nil},
		{"no call ID", "", WrapUp{Agent: "a", Disposition: "x"}, ErrInvalid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := st.SaveWrapUp(ctx, tt.callID, tt.w)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			if tt.want == nil {
				return
			}
			got, err := st.Call(ctx, tt.callID)
			if err != nil || got.WrapUp == nil || *got.WrapUp != *tt.want {
				t.Fatalf("Call().WrapUp = %+v, %v; want %+v", got.WrapUp, err, tt.want)
			}
		})
	}

	// The bot saves the record again at the end: the wrap-up stays.
	rec.End = now
	if err := st.SaveCall(ctx, rec); err != nil {
		t.Fatal(err)
	}
	// A wrap-up saved before its record exists is joined in once it does.
	if err := st.SaveWrapUp(ctx, "call-2", WrapUp{Agent: "bob", Disposition: "escalated"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveCall(ctx, &CallRecord{ID: "call-2", Start: now, WrapUp: &WrapUp{Agent: "ignored"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveCall(ctx, &CallRecord{ID: "call-3", Start: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	recs, err := st.Calls(ctx, 0)
	if err != nil || len(recs) != 3 {
		t.Fatalf("Calls = %d records, %v", len(recs), err)
	}
	wantAgents := []string{"bob", "alice", ""}
	for i, r := range recs {
		got := ""
		if r.WrapUp != nil {
			got = r.WrapUp.Agent
		}
		if got != wantAgents[i] {
			t.Errorf("Calls()[%d] %s wrap-up agent %q; want %q", i, r.ID, got, wantAgents[i])
		}
	}
	doc, _ := json.Marshal(recs[1])
	if !strings.Contains(string(doc), `"wrap_up":{"agent":"alice","disposition":"callback"`) {
		t.Errorf("JSON %s: no wrap_up", doc)
	}
	var raw string
	if err := st.db.QueryRow(`SELECT record FROM calls WHERE id = 'call-2'`).Scan(&raw); err != nil || strings.Contains(raw, "wrap_up") {
		t.Errorf("stored record %q, %v: SaveCall stored a wrap-up", raw, err)
	}
}
