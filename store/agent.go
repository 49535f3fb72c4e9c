package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Agent errors.
var (
	// ErrBadCredentials is returned by CheckAgentPassword for an unknown
	// name and for a wrong password alike.
	ErrBadCredentials = errors.New("wrong name or password")
	// ErrAgentDisabled is returned by CheckAgentPassword for a disabled
	// agent who gave the right password.
	ErrAgentDisabled = errors.New("agent is disabled")
)

// Agent is a person who takes calls in the browser. It never holds the
// password or its hash.
type Agent struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Agent password limits. The upper bound keeps one login attempt from
// hashing megabytes.
const (
	MinAgentPassword = 8
	MaxAgentPassword = 256
	maxAgentName     = 64
)

// validAgentName reports whether name is 1–64 characters of letters, digits
// and . _ - @, starting with a letter or digit.
func validAgentName(name string) bool {
	if name == "" || len(name) > maxAgentName {
		return false
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			i > 0 && strings.ContainsRune("._-@", r)
		if !ok {
			return false
		}
	}
	return true
}

// validAgentPassword reports whether password is valid UTF-8 of
// MinAgentPassword to MaxAgentPassword characters (bytes for the maximum).
func validAgentPassword(password string) bool {
	return utf8.ValidString(password) && utf8.RuneCountInString(password) >= MinAgentPassword &&
		len(password) <= MaxAgentPassword
}

// AddAgent adds an agent with the password hashed with argon2id (the PIN
// hasher and cost). The name is 1–64 letters, digits and . _ - @ and unique
// ignoring case (ErrDuplicate); the password has at least MinAgentPassword
// characters (ErrInvalid). The password is never logged.
func (s *SQLite) AddAgent(ctx context.Context, name, password string) (*Agent, error) {
	if !validAgentName(name) {
		return nil, fmt.Errorf("store: add agent: %w: name %q: want 1–%d letters, digits and . _ - @",
			ErrInvalid, name, maxAgentName)
	}
	if !validAgentPassword(password) {
		return nil, fmt.Errorf("store: add agent %s: %w: password must be %d to %d characters",
			name, ErrInvalid, MinAgentPassword, MaxAgentPassword)
	}
	if err := s.acquire(ctx); err != nil {
		return nil, fmt.Errorf("store: add agent %s: %w", name, err)
	}
	hash, err := hashPIN(password, s.cost)
	s.release()
	if err != nil {
		return nil, fmt.Errorf("store: add agent %s: %w", name, err)
	}
	created := s.now().UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO agents (name, password_hash, created_at) VALUES (?, ?, ?)`,
		name, hash, unixNano(created))
	if isUnique(err) {
		return nil, fmt.Errorf("store: add agent %s: %w", name, ErrDuplicate)
	}
	if err != nil {
		return nil, fmt.Errorf("store: add agent %s: %w", name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("store: add agent %s: %w", name, err)
	}
	s.log.Info("store: agent added", "agent", name, "agent_id", id)
	return &Agent{ID: id, Name: name, CreatedAt: created}, nil
}

// dummyAgentHash is a well-formed hash at the store's cost that no password
// matches; CheckAgentPassword hashes against it for an unknown name so that
// the answer takes as long as for a wrong password.
func (s *SQLite) dummyAgentHash() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$AAAAAAAAAAAAAAAAAAAAAA$%s", argon2.Version,
		s.cost.memoryKiB, s.cost.time, s.cost.threads, strings.Repeat("A", 43))
}

// CheckAgentPassword returns the agent named name when password is theirs.
// An unknown name and a wrong password both give ErrBadCredentials after the
// same argon2id work (an unknown name is hashed against a dummy hash); a
// disabled agent with the right password gets ErrAgentDisabled. The
// password is never logged.
func (s *SQLite) CheckAgentPassword(ctx context.Context, name, password string) (*Agent, error) {
	var a Agent
	var hash string
	var disabled, created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, password_hash, disabled, created_at FROM agents WHERE name = ?`,
		name).Scan(&a.ID, &a.Name, &hash, &disabled, &created)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: check agent password: %w", err)
	}
	if !known {
		hash = s.dummyAgentHash()
	}
	valid := validAgentPassword(password)
	if len(password) > MaxAgentPassword {
		password = password[:MaxAgentPassword] // still hashed, never accepted below
	}
	if err := s.acquire(ctx); err != nil {
		return nil, fmt.Errorf("store: check agent password: %w", err)
	}
	ok, err := checkPIN(hash, password)
	s.release()
	if err != nil {
		return nil, fmt.Errorf("store: check agent password %s: %w", a.Name, err)
	}
	if !known || !ok || !valid {
		return nil, fmt.Errorf("store: check agent password: %w", ErrBadCredentials)
	}
	a.Disabled, a.CreatedAt = disabled != 0, fromUnixNano(created)
	if a.Disabled {
		return nil, fmt.Errorf("store: agent %s: %w", a.Name, ErrAgentDisabled)
	}
	return &a, nil
}

const agentColumns = `id, name, disabled, created_at`

func scanAgent(row scanner) (*Agent, error) {
	var a Agent
	var disabled, created int64
	if err := row.Scan(&a.ID, &a.Name, &disabled, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	a.Disabled, a.CreatedAt = disabled != 0, fromUnixNano(created)
	return &a, nil
}

// AgentByID returns the agent with id, or ErrNotFound (also once removed).
func (s *SQLite) AgentByID(ctx context.Context, id int64) (*Agent, error) {
	a, err := scanAgent(s.db.QueryRowContext(ctx, `SELECT `+agentColumns+` FROM agents WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("store: agent %d: %w", id, err)
	}
	return a, nil
}

// AgentByName returns the agent named name (ignoring case), or ErrNotFound.
func (s *SQLite) AgentByName(ctx context.Context, name string) (*Agent, error) {
	a, err := scanAgent(s.db.QueryRowContext(ctx, `SELECT `+agentColumns+` FROM agents WHERE name = ?`, name))
	if err != nil {
		return nil, fmt.Errorf("store: agent %s: %w", name, err)
	}
	return a, nil
}

// ListAgents returns every agent, by name.
func (s *SQLite) ListAgents(ctx context.Context) ([]Agent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+agentColumns+` FROM agents ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	defer rows.Close()
	out := []Agent{}
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list agents: %w", err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	return out, nil
}

// SetAgentDisabled disables (or enables again) the agent named name, or
// returns ErrNotFound. A disabled agent cannot log in; their stored
// sessions are deleted, and the bridge ends those in memory.
func (s *SQLite) SetAgentDisabled(ctx context.Context, name string, disabled bool) error {
	flag := 0
	if disabled {
		flag = 1
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE agents SET disabled = ? WHERE name = ?`, flag, name)
		if err == nil {
			err = oneRow(res)
		}
		if err == nil && disabled { // a disabled agent's browsers are signed out, across restarts too
			_, err = tx.ExecContext(ctx, `DELETE FROM agent_sessions WHERE agent_id = (SELECT id FROM agents WHERE name = ?)`, name)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set agent %s disabled=%t: %w", name, disabled, err)
	}
	s.log.Info("store: agent state changed", "agent", name, "disabled", disabled)
	return nil
}

// RemoveAgent deletes the agent named name, or returns ErrNotFound. Wrap-ups
// keep the name they were saved with.
func (s *SQLite) RemoveAgent(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM agents WHERE name = ?`, name)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		return fmt.Errorf("store: remove agent %s: %w", name, err)
	}
	s.log.Info("store: agent removed", "agent", name)
	return nil
}

// oneRow turns "no row changed" into ErrNotFound.
func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
