package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCallbacks(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	clock := t0
	st := openTemp(t, WithClock(func() time.Time { return clock }))
	ctx := context.Background()

	adds := []struct {
		name    string
		cb      Callback
		wantErr error
	}{
		{"with account", Callback{CallID: "c1", Phone: "+15550100", AccountNumber: "10001", Reason: "asked"}, nil},
		{"no account", Callback{CallID: "c2", Phone: "anonymous", Done: true}, nil},
		{"own time", Callback{CallID: "c3", Phone: "+15550101", CreatedAt: t0.Add(-time.Hour)}, nil},
		{"no call ID", Callback{Phone: "+15550100"}, ErrInvalid},
		{"no phone", Callback{CallID: "c4"}, ErrInvalid},
		{"reason too long", Callback{CallID: "c5", Phone: "+1", Reason: strings.Repeat("r", 1001)}, ErrInvalid},
	}
	for _, tt := range adds {
		t.Run(tt.name, func(t *testing.T) {
			clock = clock.Add(time.Minute)
			cb, err := st.AddCallback(ctx, tt.cb)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			want := tt.cb
			want.ID, want.Done = cb.ID, false
			if want.CreatedAt.IsZero() {
				want.CreatedAt = clock
			}
			if cb.ID == 0 || *cb != want {
				t.Fatalf("AddCallback = %+v; want %+v", cb, want)
			}
		})
	}
	open, err := st.Callbacks(ctx, false)
	if err != nil || len(open) != 3 || open[0].CallID != "c3" || open[1].CallID != "c1" || open[2].CallID != "c2" {
		t.Fatalf("Callbacks = %+v, %v; want c3, c1, c2 (oldest first)", open, err)
	}
	if open[1].AccountNumber != "10001" || open[1].Reason != "asked" || !open[1].CreatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("c1 read back as %+v", open[1])
	}
	if err := st.SetCallbackDone(ctx, open[1].ID, true); err != nil {
		t.Fatal(err)
	}
	if err := st.SetCallbackDone(ctx, 9999, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetCallbackDone(unknown) = %v", err)
	}
	open, _ = st.Callbacks(ctx, false)
	all, _ := st.Callbacks(ctx, true)
	if len(open) != 2 || len(all) != 3 || !all[1].Done || all[1].CallID != "c1" {
		t.Fatalf("after done: open %+v, all %+v", open, all)
	}
}
