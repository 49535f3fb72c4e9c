package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestOpenMigratesAndReopens(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	st, err := Open(ctx, dir, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if st.Path() != filepath.Join(dir, FileName) {
		t.Errorf("Path %s", st.Path())
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil || v != len(migrations) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(migrations))
	}
	var mode string
	if err := st.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v", mode, err)
	}
	if fi, err := os.Stat(st.Path()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, %v; want 0600 (it holds PIN hashes)", fi.Mode(), err)
	}
	addAccount(t, st, demo())
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openDir(t, dir)
	var n int
	if err := st.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(migrations) {
		t.Fatalf("schema_migrations rows %d, %v: re-open migrated again", n, err)
	}
	if a := mustAccount(t, st, "10001"); a.Balance != usd(32109) {
		t.Fatalf("after re-open: %+v", a)
	}
}

func TestOpenFailedMigrationNamesVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	bad := append(append([]migration{}, migrations...), migration{len(migrations) + 1, "broken step", sqlSteps(
		`CREATE TABLE half_done (x INTEGER)`,
		`ALTER TABLE no_such_table ADD COLUMN y INTEGER`,
	)})
	_, err := OpenFile(ctx, path, cheap, func(o *options) { o.migrations = bad })
	want := fmt.Sprintf("version %d (broken step)", len(bad))
	if !errors.Is(err, ErrMigration) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v; want ErrMigration naming %q and the file", err, want)
	}
	// The failed step rolled back whole; the good ones stayed.
	st, err := OpenFile(ctx, path, cheap)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, _ := st.SchemaVersion(ctx); v != len(migrations) {
		t.Fatalf("version %d after failed migration", v)
	}
	if err := st.db.QueryRow(`SELECT 1 FROM sqlite_master WHERE name = 'half_done'`).Scan(new(int)); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("half_done table left behind: %v", err)
	}
}

func TestOpenSchemaTooNew(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	newer := append(append([]migration{}, migrations...), migration{len(migrations) + 1, "future", sqlSteps(`CREATE TABLE future (x INTEGER)`)})
	st, err := OpenFile(ctx, path, cheap, func(o *options) { o.migrations = newer })
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := OpenFile(ctx, path, cheap); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("err = %v; want ErrSchemaTooNew", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte("SQLite format 3\x00"+strings.Repeat("this is not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(ctx, garbage, cheap); err == nil || !strings.Contains(err.Error(), garbage) || !strings.Contains(err.Error(), "not a database") {
		t.Errorf("garbage file: %v", err)
	}
	if _, err := Open(ctx, notDir, cheap); err == nil || !strings.Contains(err.Error(), "data directory") {
		t.Errorf("data dir is a file: %v", err)
	}
	if _, err := Open(ctx, filepath.Join(notDir, "sub"), cheap); err == nil {
		t.Error("data dir under a file: no error")
	}
}

// TestTwoHandles: two Stores on one file (as `ivr serve` and `ivr accounts`)
// write at the same time; the busy timeout queues them and nothing is lost.
func TestTwoHandles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openDir(t, dir), openDir(t, dir)
	id := addAccount(t, a, demo()).ID
	const perHandle = 20
	var wg sync.WaitGroup
	for h, st := range []*SQLite{a, b} {
		wg.Go(func() {
			for i := range perHandle {
				_, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(1), IdempotencyKey: fmt.Sprintf("h%d-%d", h, i)})
				if err != nil {
					t.Error(err)
				}
				if err := st.SaveCall(ctx, &CallRecord{ID: fmt.Sprintf("call-%d-%d", h, i)}); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for i := range perHandle {
				_, err := st.AddAccount(ctx, NewAccount{Number: fmt.Sprintf("2%d%03d", h, i), PIN: "1234",
					Balance: usd(100), NextAmount: usd(0), CardLast4: "1111"})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if acc := mustAccount(t, b, "10001"); acc.Balance.Minor != 32109-2*perHandle {
		t.Fatalf("balance %v after %d payments of 0.01", acc.Balance, 2*perHandle)
	}
	if ps, err := a.Payments(ctx, id, 0); err != nil || len(ps) != 2*perHandle {
		t.Fatalf("%d payments, %v", len(ps), err)
	}
	if cs, err := b.Calls(ctx, 0); err != nil || len(cs) != 2*perHandle {
		t.Fatalf("%d calls, %v", len(cs), err)
	}
	if as, err := a.ListAccounts(ctx); err != nil || len(as) != 1+2*perHandle {
		t.Fatalf("%d accounts, %v", len(as), err)
	}
}

// TestTwoProcesses: this test binary run again as a second process pays
// into the same file while this one does (as `ivr serve` and an operator's
// command would); every payment lands once.
func TestTwoProcesses(t *testing.T) {
	const n = 25
	ctx := context.Background()
	if dir := os.Getenv("STORE_TEST_CHILD_DIR"); dir != "" {
		st := openDir(t, dir)
		a := mustAccount(t, st, "10001")
		for i := range n {
			if _, err := st.MakePayment(ctx, PaymentRequest{AccountID: a.ID, Amount: usd(1), IdempotencyKey: fmt.Sprintf("child-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	dir := t.TempDir()
	st := openDir(t, dir)
	id := addAccount(t, st, demo()).ID
	child := exec.Command(os.Args[0], "-test.run=^TestTwoProcesses$", "-test.count=1")
	child.Env = append(os.Environ(), "STORE_TEST_CHILD_DIR="+dir)
	out := &strings.Builder{}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := st.MakePayment(ctx, PaymentRequest{AccountID: id, Amount: usd(1), IdempotencyKey: fmt.Sprintf("parent-%d", i)}); err != nil {
			t.Error(err)
		}
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if a := mustAccount(t, st, "10001"); a.Balance.Minor != 32109-2*n {
		t.Fatalf("balance %v after %d payments of 0.01", a.Balance, 2*n)
	}
}
