package softphone

import (
	"context"
	"fmt"
	"time"

	"github.com/supportline/ivr/sip"
)

// Register sends REGISTER for cfg.From (with cfg's digest credentials) to
// the host of cfg.Target, binding the contact of cfg.Local for expires;
// 0 removes the binding. It returns the interval the registrar granted.
func Register(ctx context.Context, cfg Config, expires time.Duration) (time.Duration, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return 0, err
	}
	pc, err := phoneConfig(cfg)
	if err != nil {
		return 0, err
	}
	p, err := sip.NewPhone(pc)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.SetupTimeout, ErrSetupTimeout)
	defer cancel()
	granted, err := p.Register(ctx, targetHostPort(cfg.Target), expires)
	if err != nil {
		return 0, fmt.Errorf("register %s at %s: %w", cfg.From, targetHostPort(cfg.Target), err)
	}
	return granted, nil
}
