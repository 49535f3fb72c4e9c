package bot

import (
	"context"
	"log/slog"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
)

// Call is what the bot needs of a call: play prompts, hear keys and speech.
// It is the subset of server.Call the dialog uses, declared here so that bot
// does not import the call coordinator; server.Call satisfies it.
type Call interface {
	// Play plays the named prompts back to back and returns when they are
	// done, or at once when the caller barges in (a key press, or speech
	// while listening); it reports the barge-in.
	Play(ctx context.Context, names ...string) (bargedIn bool, err error)
	// Listen selects the grammar for the caller's next words and reports
	// whether the call has speech at all.
	Listen(grammar string) bool
	// Digits delivers the caller's key presses, each once.
	Digits() <-chan media.DTMF
	// Speech delivers recognition results (final, no-match, error).
	Speech() <-chan asr.Event
	// Log is the call's logger.
	Log() *slog.Logger
}

// TurnTaker is implemented by calls that want to know when the bot is about
// to ask its question and then wait for the caller: a scripted caller
// (the frustration evaluation) speaks its next turn then. The server's
// calls do not need it.
type TurnTaker interface {
	// Asking is called before the question of a turn is played.
	Asking()
}

// Sensitiver is implemented by calls that record their audio (server.Call
// does): Sensitive starts a window in which the caller keys a PIN or card
// data, and the recording holds silence until resume is called (and a
// short guard after it). The bot opens the window before a secret step's
// question and closes it on every way out of the step.
type Sensitiver interface {
	Sensitive() (resume func())
}
