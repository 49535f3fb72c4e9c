package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/store"
)

// CallLeg is what the bridge needs of the caller's call (server.Bridgeable
// has it): prompts, key presses, the one outgoing audio stream and a tap on
// the caller's audio.
type CallLeg interface {
	// Play plays prompts; it returns early when a key is pressed.
	Play(ctx context.Context, names ...string) (bargedIn bool, err error)
	// Digits delivers the caller's key presses.
	Digits() <-chan media.DTMF
	// SetSource plays src on the caller's outgoing stream (nil: silence).
	SetSource(src media.Source)
	// Tap also sends each 20 ms frame of the caller's audio to w (nil:
	// none); Handoff's first Tap(nil) also ends the bot's listening.
	Tap(w media.PCM16Writer)
	// Log is the call's logger.
	Log() *slog.Logger
}

// HandoffContext is what the bridge knows of a call handed over by the bot.
type HandoffContext struct {
	Card  HandoffCard
	Codec string // the call's G.711 codec, "PCMU" or "PCMA"
	// Queued is the call's place in the queue when Ring put it there at
	// the bot's decision (nil: Handoff queues it).
	Queued *Waiting
}

// Prompt names used while a caller waits.
const (
	holdMusic = "hold_music"
	// announceFirst is how long a caller holds before the first position
	// announcement (an agent who is free answers before it).
	announceFirst = 5 * time.Second
	// noAgentsWait is how long the caller has to choose after being told no
	// agent is logged in.
	noAgentsWait = 8 * time.Second
)

// errCallbackTaken ends a handoff whose caller asked to be called back.
var errCallbackTaken = errors.New("callback requested")

// Handoff queues call for an agent and bridges it when one accepts. The
// caller hears hold music with position and estimated-wait announcements
// and can press 1 for a callback. It returns when the call is over: the
// caller or the agent hung up (nil), the caller took a callback (nil), or
// ctx ended (the caller went away: ctx's error).
func (b *Bridge) Handoff(ctx context.Context, call CallLeg, hc HandoffContext) error {
	w := hc.Queued
	if w == nil {
		w = NewWaiting(hc.Card)
	}
	log := call.Log()
	call.Tap(nil) // the bot no longer listens: caller speech must not cut prompts
	b.setPhase(w.CallID, w.From, PhaseWaiting, "")
	defer b.forget(w.CallID)
	if hc.Queued == nil && !b.queue.AgentsLoggedIn() {
		err := b.noAgents(ctx, call, hc)
		if errors.Is(err, errCallbackTaken) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	music, err := b.player(true, holdMusic)
	if err != nil {
		return err
	}
	defer music.Stop()
	b.queue.Enqueue(w)
	defer b.queue.Leave(w)
	b.broadcastQueue()
	for {
		as, err := b.hold(ctx, call, w, hc, music)
		if errors.Is(err, errCallbackTaken) {
			return nil
		}
		if err != nil {
			return err
		}
		dropped, err := b.talk(ctx, call, w, hc, as, music)
		if !dropped {
			return err
		}
		log.Warn("bridge: agent dropped mid-call; caller back to the head of the queue", "agent", as.AgentName)
		b.setPhase(w.CallID, w.From, PhaseWaiting, "")
		b.queue.Requeue(w)
		// Never silence: music under the apology until it has been said.
		if _, err := call.Play(ctx, "agent_disconnected"); err != nil {
			return err
		}
	}
}

// Ring queues a handed-over call at the moment of the bot's decision, so
// an agent's browser rings while the bot still says its last words; the
// call's Handoff then takes it on (HandoffContext.Queued). It returns nil
// when no agent is on duty (Handoff tells the caller and offers a
// callback). A call that ends before its Handoff must be Cancelled.
func (b *Bridge) Ring(card HandoffCard) *Waiting {
	if !b.queue.AgentsLoggedIn() {
		return nil
	}
	w := NewWaiting(card)
	b.setPhase(w.CallID, w.From, PhaseWaiting, "")
	b.queue.Enqueue(w)
	return w
}

// Cancel takes a call that Ring queued out of the queue (the caller hung
// up before the handoff).
func (b *Bridge) Cancel(w *Waiting) {
	b.queue.Leave(w)
	b.forget(w.CallID)
}

// AwaitAssigned waits until an agent accepts w (true; the assignment is
// left for Handoff) or stop is closed (false).
func (w *Waiting) AwaitAssigned(stop <-chan struct{}) bool {
	select {
	case as := <-w.assigned:
		w.assigned <- as // buffered, and only the queue sends, once per queueing
		return true
	case <-stop:
		return false
	}
}

// noAgents tells the caller no agent is logged in and offers a callback;
// nil means the caller holds anyway (2, or no choice).
func (b *Bridge) noAgents(ctx context.Context, call CallLeg, hc HandoffContext) error {
	if _, err := call.Play(ctx, "agents_closed", "callback_offer"); err != nil {
		return err
	}
	t := time.NewTimer(noAgentsWait)
	defer t.Stop()
	select {
	case d := <-call.Digits():
		if d.Digit == '1' {
			return b.takeCallback(ctx, call, hc)
		}
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// takeCallback stores a callback request and says goodbye
// (errCallbackTaken); if it cannot be stored the caller is told and stays
// (nil).
func (b *Bridge) takeCallback(ctx context.Context, call CallLeg, hc HandoffContext) error {
	if !b.storeCallback(ctx, call, hc) {
		_, err := call.Play(ctx, "technical_error")
		return err
	}
	return b.confirmCallback(ctx, call)
}

func (b *Bridge) storeCallback(ctx context.Context, call CallLeg, hc HandoffContext) bool {
	cb := store.Callback{CallID: hc.Card.CallID, Phone: hc.Card.From, AccountNumber: hc.Card.AccountNumber,
		Reason: hc.Card.Reason}
	if hc.Card.ReasonDetail != "" {
		cb.Reason += ": " + hc.Card.ReasonDetail
	}
	if _, err := b.cfg.Store.AddCallback(ctx, cb); err != nil {
		call.Log().Error("bridge: callback not stored", "error", err)
		return false
	}
	call.Log().Info("bridge: callback requested")
	b.broadcastCallbacks(ctx)
	return true
}

func (b *Bridge) confirmCallback(ctx context.Context, call CallLeg) error {
	if _, err := call.Play(ctx, "callback_confirmed", "goodbye"); err != nil {
		return err
	}
	return errCallbackTaken
}

// callbackKey handles key 1 while the caller holds: once the callback is
// stored the call leaves the queue (unless an agent took it meanwhile:
// then the agent talks to the caller, and the callback is on the list).
func (b *Bridge) callbackKey(ctx context.Context, call CallLeg, w *Waiting, hc HandoffContext) (Assignment, bool, error) {
	if !b.storeCallback(ctx, call, hc) {
		_, err := call.Play(ctx, "technical_error") // still in the queue, in place
		return Assignment{}, false, err
	}
	b.queue.Leave(w)
	select {
	case as := <-w.Assigned():
		return as, true, nil
	default:
	}
	return Assignment{}, false, b.confirmCallback(ctx, call)
}

// hold plays music and announcements until an agent accepts w.
func (b *Bridge) hold(ctx context.Context, call CallLeg, w *Waiting, hc HandoffContext, music media.Source) (Assignment, error) {
	call.SetSource(music)
	var err error
	next := time.NewTimer(announceFirst)
	defer next.Stop()
	var announcing *prompts.Player
	stop := func() {
		if announcing != nil {
			announcing.Stop()
			announcing = nil
			call.SetSource(music)
		}
	}
	defer stop()
	for {
		var done <-chan struct{}
		if announcing != nil {
			done = announcing.Done()
		}
		select {
		case as := <-w.Assigned():
			return as, nil
		case <-next.C:
			next.Reset(b.cfg.AnnounceEvery)
			if announcing, err = b.announcement(w); err != nil {
				return Assignment{}, err
			}
			call.SetSource(announcing)
		case <-done:
			stop()
		case d := <-call.Digits():
			if d.Digit != '1' {
				stop() // 2: keep holding, without the rest of the announcement
				continue
			}
			stop()
			if as, ok, err := b.callbackKey(ctx, call, w, hc); ok || err != nil {
				return as, err
			}
			call.SetSource(music)
		case <-ctx.Done():
			return Assignment{}, ctx.Err()
		}
	}
}

// announcement says the caller's place, the estimated wait and the
// callback offer, from the catalog's snippets.
func (b *Bridge) announcement(w *Waiting) (*prompts.Player, error) {
	pos := b.queue.Position(w)
	return b.player(false, announcementNames(pos, b.queue.EstimatedWait(pos))...)
}

// announcementNames are the clips of a position announcement: "Thanks for
// holding. ... You are caller number three in line. Your estimated wait is
// five minutes." and the callback offer.
func announcementNames(pos int, est time.Duration) []string {
	names := []string{"queue_thanks_holding"}
	if pos > 0 {
		names = append(names, "queue_caller_number")
		names = append(names, prompts.SayNumber(int64(pos))...)
		names = append(names, "queue_in_line")
		if est < time.Minute {
			names = append(names, "queue_wait_under_minute")
		} else {
			names = append(names, "queue_wait_is")
			names = append(names, prompts.SayMinutes(int((est+time.Minute/2)/time.Minute))...)
		}
	}
	return append(names, "callback_offer")
}

func (b *Bridge) player(loop bool, names ...string) (*prompts.Player, error) {
	clips, err := b.cfg.Prompts.Clips(names...)
	if err != nil {
		return nil, fmt.Errorf("bridge: prompts: %w", err)
	}
	if loop {
		return prompts.NewPlayer(clips, prompts.WithLoop()), nil
	}
	return prompts.NewPlayer(clips), nil
}
