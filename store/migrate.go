package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migration is one schema step. Versions start at 1 and have no gaps; a
// released migration is never edited, only followed by a new one.
type migration struct {
	version int
	name    string
	up      func(ctx context.Context, tx *sql.Tx) error
}

// sqlSteps is a migration made of plain statements.
func sqlSteps(stmts ...string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
}

// migrations is the schema history.
var migrations = []migration{
	{1, "accounts, phones, payments, calls", sqlSteps(
		`CREATE TABLE accounts (
			id                INTEGER PRIMARY KEY,
			number            TEXT    NOT NULL UNIQUE,
			pin_hash          TEXT    NOT NULL,
			currency          TEXT    NOT NULL,
			balance_minor     INTEGER NOT NULL CHECK (balance_minor >= 0),
			next_amount_minor INTEGER NOT NULL CHECK (next_amount_minor >= 0),
			next_due          TEXT    NOT NULL DEFAULT '',
			card_last4        TEXT    NOT NULL,
			locked_until      INTEGER NOT NULL DEFAULT 0,
			failed_pins       INTEGER NOT NULL DEFAULT 0,
			created_at        INTEGER NOT NULL
		) STRICT`,
		`CREATE TABLE account_phones (
			phone      TEXT    PRIMARY KEY,
			account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
		) STRICT`,
		`CREATE INDEX account_phones_account ON account_phones(account_id)`,
		`CREATE TABLE payments (
			id              INTEGER PRIMARY KEY,
			account_id      INTEGER NOT NULL REFERENCES accounts(id),
			amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
			currency        TEXT    NOT NULL,
			card_last4      TEXT    NOT NULL,
			status          TEXT    NOT NULL,
			confirmation    TEXT    NOT NULL UNIQUE,
			idempotency_key TEXT    NOT NULL UNIQUE,
			created_at      INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX payments_account ON payments(account_id, id)`,
		`CREATE TABLE calls (
			id             TEXT    PRIMARY KEY,
			start          INTEGER NOT NULL,
			account_number TEXT    NOT NULL DEFAULT '',
			outcome        TEXT    NOT NULL DEFAULT '',
			record         TEXT    NOT NULL
		) STRICT`,
		`CREATE INDEX calls_start ON calls(start DESC, id DESC)`,
	)},
	{2, "agents, callbacks, call wrap-ups", sqlSteps(
		`CREATE TABLE agents (
			id            INTEGER PRIMARY KEY,
			name          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
			password_hash TEXT    NOT NULL,
			disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
			created_at    INTEGER NOT NULL
		) STRICT`,
		`CREATE TABLE callbacks (
			id             INTEGER PRIMARY KEY,
			call_id        TEXT    NOT NULL,
			phone          TEXT    NOT NULL,
			account_number TEXT    NOT NULL DEFAULT '',
			reason         TEXT    NOT NULL DEFAULT '',
			created_at     INTEGER NOT NULL,
			done           INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1))
		) STRICT`,
		`CREATE INDEX callbacks_open ON callbacks(done, id)`,
		`CREATE TABLE call_wrapups (
			call_id     TEXT    PRIMARY KEY,
			agent       TEXT    NOT NULL,
			disposition TEXT    NOT NULL,
			notes       TEXT    NOT NULL DEFAULT '',
			at          INTEGER NOT NULL
		) STRICT`,
	)},
	{3, "agent sessions", sqlSteps(
		`CREATE TABLE agent_sessions (
			token_hash BLOB    PRIMARY KEY CHECK (length(token_hash) = 32),
			agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
			expires_at INTEGER NOT NULL,
			created_at INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX agent_sessions_agent ON agent_sessions(agent_id)`,
	)},
	{4, "sip users", sqlSteps(
		`CREATE TABLE sip_users (
			id         INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL UNIQUE,
			realm      TEXT    NOT NULL,
			ha1_md5    TEXT    NOT NULL,
			ha1_sha256 TEXT    NOT NULL,
			disabled   INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
			created_at INTEGER NOT NULL
		) STRICT`,
	)},
	{5, "call recordings", sqlSteps(
		`ALTER TABLE calls ADD COLUMN recording TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE calls ADD COLUMN recording_ms INTEGER NOT NULL DEFAULT 0 CHECK (recording_ms >= 0)`,
		`ALTER TABLE calls ADD COLUMN recording_paused_ms INTEGER NOT NULL DEFAULT 0 CHECK (recording_paused_ms >= 0)`,
		`ALTER TABLE calls ADD COLUMN recording_paused TEXT NOT NULL DEFAULT '[]'`,
	)},
}

// migrate brings the schema to the last version of ms, each migration in its
// own IMMEDIATE transaction that also records the version, so a failed step
// leaves the schema at the previous version and two processes opening a new
// file at once migrate it once.
func (s *SQLite) migrate(ctx context.Context, ms []migration) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("%w: schema_migrations table: %w", ErrMigration, err)
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	for i, m := range ms {
		if m.version != i+1 {
			return fmt.Errorf("%w: migration %d is numbered %d", ErrMigration, i+1, m.version)
		}
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var cur int
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
				return err
			}
			if cur > latest {
				return fmt.Errorf("%w: database is at version %d, this build knows up to %d", ErrSchemaTooNew, cur, latest)
			}
			if cur >= m.version {
				return nil
			}
			if err := m.up(ctx, tx); err != nil {
				return fmt.Errorf("%w: version %d (%s): %w", ErrMigration, m.version, m.name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, s.now().UnixNano())
			if err == nil {
				s.log.Info("store: migrated", "version", m.version, "name", m.name, "path", s.path)
			}
			return err
		})
		if err != nil && !errors.Is(err, ErrMigration) && !errors.Is(err, ErrSchemaTooNew) {
			err = fmt.Errorf("%w: version %d (%s): %w", ErrMigration, m.version, m.name, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion returns the schema version of the open database.
func (s *SQLite) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
