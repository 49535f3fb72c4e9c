package bridge

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// legLoggerFactory sends pion's logs to the leg's slog.Logger, each with its
// pion scope ("ice", "dtls", "pc", …). pion's Info is chatty (every state
// change), so it goes out at Debug; Trace is dropped.
type legLoggerFactory struct{ log *slog.Logger }

// NewLogger implements logging.LoggerFactory.
func (f legLoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return legLogger{log: f.log.With("pion", scope)}
}

type legLogger struct{ log *slog.Logger }

func (l legLogger) logf(level slog.Level, format string, args ...any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
}

func (l legLogger) Trace(string)          {}
func (l legLogger) Tracef(string, ...any) {}
func (l legLogger) Debug(msg string)      { l.logf(slog.LevelDebug, "%s", msg) }
func (l legLogger) Debugf(f string, a ...any) {
	l.logf(slog.LevelDebug, f, a...)
}
func (l legLogger) Info(msg string)          { l.logf(slog.LevelDebug, "%s", msg) }
func (l legLogger) Infof(f string, a ...any) { l.logf(slog.LevelDebug, f, a...) }
func (l legLogger) Warn(msg string)          { l.logf(slog.LevelWarn, "%s", msg) }
func (l legLogger) Warnf(f string, a ...any) { l.logf(slog.LevelWarn, f, a...) }
func (l legLogger) Error(msg string)         { l.logf(slog.LevelError, "%s", msg) }
func (l legLogger) Errorf(f string, a ...any) {
	l.logf(slog.LevelError, f, a...)
}
