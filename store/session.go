package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AgentSession is a signed-in browser of an agent, kept so that a restart
// of the server does not sign agents out. Only the SHA-256 of the session
// token is stored: the table holds nothing a cookie could be made from.
type AgentSession struct {
	TokenHash [32]byte
	AgentID   int64
	Expires   time.Time
}

// SaveAgentSession stores a session, or moves the expiry of one already
// stored. The agent must exist.
func (s *SQLite) SaveAgentSession(ctx context.Context, sess AgentSession) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO agent_sessions (token_hash, agent_id, expires_at, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (token_hash) DO UPDATE SET expires_at = excluded.expires_at`,
		sess.TokenHash[:], sess.AgentID, unixNano(sess.Expires), s.now().UnixNano())
	if err != nil {
		return fmt.Errorf("store: save agent session: %w", err)
	}
	return nil
}

// AgentSessionByHash returns the stored session with the token hash h, or
// ErrNotFound. It may have expired; the caller decides.
func (s *SQLite) AgentSessionByHash(ctx context.Context, h [32]byte) (*AgentSession, error) {
	out := AgentSession{TokenHash: h}
	var exp int64
	err := s.db.QueryRowContext(ctx, `SELECT agent_id, expires_at FROM agent_sessions WHERE token_hash = ?`, h[:]).
		Scan(&out.AgentID, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: agent session: %w", err)
	}
	out.Expires = fromUnixNano(exp)
	return &out, nil
}

// DeleteAgentSession forgets the session with the token hash h (sign-out);
// an unknown hash is not an error.
func (s *SQLite) DeleteAgentSession(ctx context.Context, h [32]byte) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM agent_sessions WHERE token_hash = ?`, h[:]); err != nil {
		return fmt.Errorf("store: delete agent session: %w", err)
	}
	return nil
}

// DeleteAgentSessions forgets every session of the agent id and, with a
// non-zero before, every session of any agent that expired before it. It
// returns how many it deleted.
func (s *SQLite) DeleteAgentSessions(ctx context.Context, id int64, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM agent_sessions WHERE agent_id = ? OR expires_at < ?`,
		id, unixNano(before))
	if err != nil {
		return 0, fmt.Errorf("store: delete agent sessions: %w", err)
	}
	return res.RowsAffected()
}
