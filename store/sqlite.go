package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the database file's name inside the data directory.
const FileName = "ivr.db"

// SQLite is the SQLite Store. It is safe for concurrent use, also by several
// processes on the same file.
type SQLite struct {
	db   *sql.DB
	path string
	log  *slog.Logger
	cost pinHashCost
	now  func() time.Time
	// hashing bounds concurrent argon2id runs (each holds the memory cost).
	hashing chan struct{}
}

type options struct {
	log         *slog.Logger
	busyTimeout time.Duration
	cost        pinHashCost
	now         func() time.Time
	migrations  []migration
}

// Option configures Open.
type Option func(*options)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithBusyTimeout sets how long a statement waits for another connection's
// or process's lock before failing with "database is locked" (default 5 s).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithPINHashCost sets the argon2id cost of new PIN hashes: memory in KiB and
// passes (default 19456 KiB, 2). Existing hashes keep their own cost. Tests
// use a tiny cost; production should not go below the default.
func WithPINHashCost(memoryKiB, passes uint32) Option {
	return func(o *options) { o.cost = pinHashCost{memoryKiB: memoryKiB, time: passes, threads: 1} }
}

// WithClock sets the clock used for creation times (default time.Now).
// VerifyPIN and MakePayment take their time as an argument instead.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Open opens (creating it and the directory when missing) the store in
// dataDir/ivr.db and migrates its schema to the current version.
func Open(ctx context.Context, dataDir string, opts ...Option) (*SQLite, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	return OpenFile(ctx, filepath.Join(dataDir, FileName), opts...)
}

// OpenFile opens (creating when missing) the SQLite database at path and
// migrates its schema. A file that is not a database, cannot be written or
// fails a migration is an error naming the file (and the migration version).
func OpenFile(ctx context.Context, path string, opts ...Option) (*SQLite, error) {
	o := options{
		log:         slog.New(slog.DiscardHandler),
		busyTimeout: 5 * time.Second,
		cost:        defaultPINHashCost,
		now:         time.Now,
		migrations:  migrations,
	}
	for _, opt := range opts {
		opt(&o)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	// The file holds PIN hashes: create it owner-only (SQLite gives its -wal
	// and -shm files the same mode).
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f.Close()
	db, err := sql.Open("sqlite", dsn(abs, o.busyTimeout))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	s := &SQLite{
		db: db, path: abs, log: o.log, cost: o.cost, now: o.now,
		hashing: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master`).Scan(new(int)); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	if err := s.migrate(ctx, o.migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	return s, nil
}

// dsn is the modernc.org/sqlite data source name: WAL so readers never block
// the writer, a busy timeout so writers from other processes queue, foreign
// keys on, synchronous FULL (a committed payment survives power loss), and
// BEGIN IMMEDIATE for every transaction.
func dsn(path string, busy time.Duration) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Path is the database file's absolute path.
func (s *SQLite) Path() string { return s.path }

// Close closes the database. Statements after Close fail.
func (s *SQLite) Close() error { return s.db.Close() }

// inTx runs fn in one IMMEDIATE transaction, committing when fn returns nil
// and rolling back otherwise.
func (s *SQLite) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			s.log.Error("store: rollback failed", "err", rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint failure.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// unixNano stores a time as Unix nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNano is the inverse of unixNano, in UTC.
func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
