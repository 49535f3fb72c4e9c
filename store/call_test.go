package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestCallRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	start := time.Date(2026, time.June, 1, 9, 0, 0, 123456789, time.UTC)
	rec := &CallRecord{
		ID: "a84b4c76e66710@pc33.example.com", From: "sip:+15550100@example.com", To: "sip:support@ivr",
		Start: start, AccountNumber: "10001", Verified: true,
		Transcript: []Turn{
			{At: 200 * time.Millisecond, Who: "bot", Text: "Welcome. Say 'agent' or press 0 at any time."},
			{At: 3 * time.Second, Who: "caller", Text: "what's my balance", Confidence: 0.87, Intent: "balance", Input: "speech"},
			{At: 5 * time.Second, Who: "caller", Text: "****", Input: "dtmf"},
		},
		Intents: []string{"balance"}, DTMF: []string{"****"}, Outcome: "in_progress",
	}
	if err := st.SaveCall(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, err := st.Call(ctx, rec.ID)
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("Call = %+v, %v\nwant %+v", got, err, rec)
	}
	// Saved again at the end of the call: replaced, not duplicated.
	rec.End = start.Add(40 * time.Second)
	rec.Outcome = "agent"
	rec.Handover = &Handover{Reason: HandoverFrustration, Detail: "three no-matches", At: 35 * time.Second}
	rec.Payments = []int64{7}
	rec.Recording = "recordings/a84b.wav"
	if err := st.SaveCall(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, err = st.Call(ctx, rec.ID)
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("Call after update = %+v, %v", got, err)
	}
	if all, _ := st.Calls(ctx, 0); len(all) != 1 {
		t.Fatalf("%d records after two saves", len(all))
	}
	if _, err := st.Call(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Call(unknown) = %v", err)
	}
	if err := st.SaveCall(ctx, &CallRecord{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SaveCall(no ID) = %v", err)
	}
}

func TestCallsNewestFirst(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	t0 := time.Date(2026, time.June, 1, 9, 0, 0, 0, time.UTC)
	for i, id := range []string{"b", "c", "a"} { // saved out of order
		if err := st.SaveCall(ctx, &CallRecord{ID: id, Start: t0.Add(time.Duration([]int{2, 3, 1}[i]) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Calls(ctx, 2)
	if err != nil || len(got) != 2 || got[0].ID != "c" || got[1].ID != "b" {
		t.Fatalf("Calls(2) = %+v, %v", got, err)
	}
}
