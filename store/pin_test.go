package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHashPIN(t *testing.T) {
	c := pinHashCost{memoryKiB: 64, time: 1, threads: 1}
	h1, err := hashPIN("2468", c)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hashPIN("2468", c)
	if strings.Contains(h1, "2468") || !strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q: want PHC argon2id without the PIN", h1)
	}
	if h1 == h2 {
		t.Error("two hashes of one PIN are equal: no salt")
	}
	var compares atomic.Int32
	orig := pinCompare
	pinCompare = func(x, y []byte) int { compares.Add(1); return orig(x, y) }
	t.Cleanup(func() { pinCompare = orig })
	for _, tt := range []struct {
		pin  string
		want bool
	}{{"2468", true}, {"2469", false}, {"24680", false}, {"", false}} {
		ok, err := checkPIN(h1, tt.pin)
		if err != nil || ok != tt.want {
			t.Errorf("checkPIN(%q) = %v, %v; want %v", tt.pin, ok, err, tt.want)
		}
	}
	if compares.Load() != 4 {
		t.Errorf("constant-time compare used %d times for 4 checks", compares.Load())
	}
	for _, bad := range []string{"", "2468", "$argon2id$v=19$m=64,t=1,p=1$!!$!!", "$bcrypt$x$y$z$w"} {
		if _, err := checkPIN(bad, "2468"); err == nil {
			t.Errorf("checkPIN(stored %q): no error", bad)
		}
	}
}

// TestPINNotStored reads the raw row: only the hash is there.
func TestPINNotStored(t *testing.T) {
	st := openTemp(t)
	addAccount(t, st, demo())
	var hash string
	if err := st.db.QueryRow(`SELECT pin_hash FROM accounts`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if hash == "2468" || !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("stored %q", hash)
	}
}

func TestVerifyPINLockout(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	id := addAccount(t, st, demo()).ID
	now := day(2026, time.June, 1).Add(9 * time.Hour)
	const maxFails, lockFor = 3, 30 * time.Minute

	verify := func(pin string, at time.Time) PINResult {
		t.Helper()
		r, err := st.VerifyPIN(ctx, id, pin, at, maxFails, lockFor)
		if err != nil {
			t.Fatalf("VerifyPIN: %v", err)
		}
		return r
	}
	if r := verify("2468", now); !r.OK || r.FailsLeft != 3 {
		t.Fatalf("right PIN: %+v", r)
	}
	if r := verify("1111", now); r.OK || r.Locked || r.FailsLeft != 2 {
		t.Fatalf("1st wrong: %+v", r)
	}
	if r := verify("12", now); r.OK || r.Locked || r.FailsLeft != 1 { // malformed counts
		t.Fatalf("2nd wrong: %+v", r)
	}
	r := verify("1111", now)
	if r.OK || !r.Locked || !r.LockedUntil.Equal(now.Add(lockFor)) {
		t.Fatalf("3rd wrong: %+v, want locked until %v", r, now.Add(lockFor))
	}
	if a := mustAccount(t, st, "10001"); !a.Locked(now) || a.FailedPINs != 0 {
		t.Fatalf("account after lock: %+v", a)
	}
	// Locked: even the right PIN is not compared.
	if r := verify("2468", now.Add(lockFor-time.Second)); r.OK || !r.Locked {
		t.Fatalf("right PIN while locked: %+v", r)
	}
	if _, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(100), IdempotencyKey: "k", Now: now}); !errors.Is(err, ErrAccountLocked) {
		t.Fatalf("payment while locked: %v", err)
	}
	// Expiry: the injected clock passes the lock; a fresh count of tries.
	later := now.Add(lockFor)
	if r := verify("1111", later); r.Locked || r.FailsLeft != 2 {
		t.Fatalf("wrong PIN after expiry: %+v", r)
	}
	if r := verify("2468", later); !r.OK {
		t.Fatalf("right PIN after expiry: %+v", r)
	}
	// Unlock by the operator.
	for range maxFails {
		verify("0000", later)
	}
	if !mustAccount(t, st, "10001").Locked(later) {
		t.Fatal("not locked again")
	}
	if err := st.Unlock(ctx, "10001"); err != nil {
		t.Fatal(err)
	}
	if a := mustAccount(t, st, "10001"); a.Locked(later) || a.FailedPINs != 0 {
		t.Fatalf("after Unlock: %+v", a)
	}
	if r := verify("2468", later); !r.OK {
		t.Fatalf("right PIN after Unlock: %+v", r)
	}
	if err := st.Unlock(ctx, "99999"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Unlock(unknown) = %v", err)
	}
	if _, err := st.VerifyPIN(ctx, 999, "2468", now, 3, lockFor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("VerifyPIN(unknown) = %v", err)
	}
	if _, err := st.VerifyPIN(ctx, id, "2468", now, 0, lockFor); !errors.Is(err, ErrInvalid) {
		t.Fatalf("VerifyPIN(maxFails 0) = %v", err)
	}
}

// TestVerifyPINConcurrent: wrong guesses in parallel are all counted, and
// exactly one of them sets the lock.
func TestVerifyPINConcurrent(t *testing.T) {
	st := openTemp(t)
	id := addAccount(t, st, demo()).ID
	now := day(2026, time.June, 1)
	var wg sync.WaitGroup
	var locked, open atomic.Int32
	for range 10 {
		wg.Go(func() {
			r, err := st.VerifyPIN(context.Background(), id, "0000", now, 3, time.Hour)
			switch {
			case err != nil:
				t.Error(err)
			case r.Locked:
				locked.Add(1)
			default:
				open.Add(1)
			}
		})
	}
	wg.Wait()
	if open.Load() != 2 || locked.Load() != 8 {
		t.Fatalf("open %d locked %d, want 2 and 8", open.Load(), locked.Load())
	}
	var fails int
	var until int64
	if err := st.db.QueryRow(`SELECT failed_pins, locked_until FROM accounts WHERE id = ?`, id).Scan(&fails, &until); err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	if fails != 0 || fromUnixNano(until) != now.Add(time.Hour) {
		t.Fatalf("fails %d until %v", fails, fromUnixNano(until))
	}
}
