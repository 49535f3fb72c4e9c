package main

import (
	"context"
	"log/slog"
	"sync"

	gosip "github.com/emiago/sipgo/sip"
)

// quietLibrary sends what sipgo logs through its package-level default
// logger (connection bookkeeping such as "ref went negative") to log, one
// level lower, tagged component=sipgo: library chatter an operator cannot
// act on stays out of the info log but is there at debug.
//
// sipgo's default logger is a package global, so it is set once per
// process: the first command to run (serve or call) decides it.
func quietLibrary(log *slog.Logger) {
	libraryLogOnce.Do(func() {
		gosip.SetDefaultLogger(slog.New(demoted{log.Handler()}).With("component", "sipgo"))
	})
}

var libraryLogOnce sync.Once

// demoted lowers every record by one level step (warn → info → debug).
type demoted struct{ h slog.Handler }

func (d demoted) Enabled(ctx context.Context, l slog.Level) bool { return d.h.Enabled(ctx, l-4) }
func (d demoted) Handle(ctx context.Context, r slog.Record) error {
	r.Level -= 4
	return d.h.Handle(ctx, r)
}
func (d demoted) WithAttrs(a []slog.Attr) slog.Handler { return demoted{d.h.WithAttrs(a)} }
func (d demoted) WithGroup(n string) slog.Handler      { return demoted{d.h.WithGroup(n)} }
