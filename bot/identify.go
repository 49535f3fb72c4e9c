package bot

import (
	"context"
	"errors"

	"github.com/supportline/ivr/store"
)

// greet says who we are and that a person is always there.
func (b *Bot) greet(ctx context.Context) (stepID, error) {
	return b.sayBefore(ctx, stepIdentify, "welcome")
}

// identify looks the caller's number up: a known number goes straight to
// the PIN, an unknown one is asked for the account number.
func (b *Bot) identify(ctx context.Context) (stepID, error) {
	if b.cfg.Caller == "" {
		return stepAccount, nil
	}
	sctx, cancel := context.WithTimeout(ctx, b.cfg.StoreTimeout)
	acct, err := b.cfg.Store.AccountByPhone(sctx, b.cfg.Caller)
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound):
		return stepAccount, nil
	case err != nil:
		return b.storeFailed(ctx, "account by phone", err)
	}
	b.setAccount(acct)
	next, err := b.toPIN(ctx)
	if next != stepPIN || err != nil {
		return next, err
	}
	return b.sayBefore(ctx, stepPIN, "id_caller_found")
}

// onAccount looks up the account number the caller gave.
func (b *Bot) onAccount(ctx context.Context, a answer) (stepID, error) {
	b.accountTries++
	sctx, cancel := context.WithTimeout(ctx, b.cfg.StoreTimeout)
	acct, err := b.cfg.Store.AccountByNumber(sctx, a.value)
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound):
		b.log.Info("bot: no such account", "tries", b.accountTries)
		if b.accountTries >= b.cfg.MaxAccountTries {
			return b.handover(ctx, store.HandoverBotFailed, "unverified: account not found", "id_account_not_found")
		}
		return b.sayBefore(ctx, stepAccount, "id_account_not_found")
	case err != nil:
		return b.storeFailed(ctx, "account by number", err)
	}
	b.setAccount(acct)
	return b.toPIN(ctx)
}

// toPIN asks for the PIN, unless the account is locked.
func (b *Bot) toPIN(ctx context.Context) (stepID, error) {
	if until := b.acct.LockedUntil; until.After(b.cfg.Now()) {
		return b.locked(ctx, until.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return stepPIN, nil
}

// onPIN checks the PIN. The store counts failures across calls and locks
// the account after MaxPINFails.
func (b *Bot) onPIN(ctx context.Context, a answer) (stepID, error) {
	sctx, cancel := context.WithTimeout(ctx, b.cfg.StoreTimeout)
	res, err := b.cfg.Store.VerifyPIN(sctx, b.acct.ID, a.value, b.cfg.Now(), b.cfg.MaxPINFails, b.cfg.LockFor)
	cancel()
	switch {
	case err != nil:
		return b.storeFailed(ctx, "verify pin", err)
	case res.OK:
		b.mu.Lock()
		b.rec.Verified = true
		b.mu.Unlock()
		b.log.Info("bot: caller verified")
		return b.sayBefore(ctx, stepMenu, "id_verified")
	case res.Locked:
		b.log.Info("bot: account locked", "until", res.LockedUntil)
		return b.locked(ctx, res.LockedUntil.UTC().Format("2006-01-02T15:04:05Z"))
	}
	b.log.Info("bot: wrong pin", "fails_left", res.FailsLeft)
	return b.sayBefore(ctx, stepPIN, "id_pin_incorrect")
}

// locked tells the caller the account is locked and hands the call to a
// person; nothing of the account is said.
func (b *Bot) locked(ctx context.Context, until string) (stepID, error) {
	return b.handover(ctx, store.HandoverBotFailed, "locked until "+until, "id_account_locked")
}

// setAccount makes acct the call's account (not yet verified).
func (b *Bot) setAccount(acct *store.Account) {
	b.acct = acct
	b.mu.Lock()
	b.rec.AccountNumber = acct.Number
	b.mu.Unlock()
}
