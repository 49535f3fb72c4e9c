package bot

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/prompts"
	"github.com/supportline/ivr/store"
)

// EvalConfig configures a run of scripted calls through the bot.
type EvalConfig struct {
	// Recognizer hears the callers; build it with asr.DefaultGrammars()
	// and Grammars().
	Recognizer asr.Recognizer
	// Stream configures each call's recognition stream.
	Stream asr.StreamConfig
	// Codec is the G.711 law the speech goes through. Default media.PCMU.
	Codec media.Codec
	// Frustration is the detector's configuration under test.
	Frustration FrustrationConfig
	// NoInput is the bot's wait for a turn (default 3 s: the scripted
	// caller answers at once, or stays silent on purpose).
	NoInput time.Duration
	// Concurrency is how many calls run at once. Default 1.
	Concurrency int
	// Log receives the bots' logs (discarded when nil).
	Log *slog.Logger
	// Progress, if set, is called after each call (one at a time).
	Progress func(done, total int, r CallResult)
}

// CallResult is what one scripted call gave.
type CallResult struct {
	Name    string `json:"name"`
	Label   string `json:"label"`
	Outcome string `json:"outcome"`
	// Reason and Detail are the handover's, if any.
	Reason string `json:"handover_reason,omitempty"`
	Detail string `json:"handover_detail,omitempty"`
	// FirstFrustrated is the caller's first frustrated (or, for agent
	// calls, asking) turn, 1-based; 0 for none.
	FirstFrustrated int `json:"first_frustrated_turn,omitempty"`
	// HandoverTurn is the caller turn the handover followed, 1-based.
	HandoverTurn int `json:"handover_turn,omitempty"`
	// TurnsToHandover counts the turns from FirstFrustrated to the
	// handover, both included (1: at once); 0 when there was none.
	TurnsToHandover int    `json:"turns_to_handover,omitempty"`
	Error           string `json:"error,omitempty"`
}

// Eval runs every scripted call of DIR/calls.tsv through a bot with the
// real recognizer, SQLite store (in a temporary directory) and prompts,
// and sums the results up.
func Eval(ctx context.Context, dir string, cfg EvalConfig) (*EvalReport, error) {
	calls, err := ReadScripts(dir)
	if err != nil {
		return nil, err
	}
	if cfg.Codec.Encode == nil {
		cfg.Codec = media.PCMU
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.NoInput <= 0 {
		cfg.NoInput = 3 * time.Second
	}
	if err := loadScripts(dir, calls, cfg.Codec); err != nil {
		return nil, err
	}
	tmp, err := tempDir()
	if err != nil {
		return nil, err
	}
	defer tmp.remove()
	st, err := store.Open(ctx, tmp.path, store.WithPINHashCost(64, 1), store.WithLogger(cfg.Log))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	cat, err := prompts.Embedded()
	if err != nil {
		return nil, err
	}
	results := make([]CallResult, len(calls))
	var done int
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, cfg.Concurrency))
	progress := make(chan int, len(calls))
	for i := range calls {
		g.Go(func() error {
			r, err := evalCall(gctx, cfg, st, cat, i, calls[i])
			if err != nil {
				return err
			}
			results[i] = r
			progress <- i
			return nil
		})
	}
	reported := make(chan struct{})
	go func() { // reports progress from one goroutine; ends when g is done
		defer close(reported)
		for i := range progress {
			done++
			if cfg.Progress != nil {
				cfg.Progress(done, len(calls), results[i])
			}
		}
	}()
	err = g.Wait()
	close(progress)
	<-reported
	if err != nil {
		return nil, err
	}
	return summarise(results), nil
}

// loadScripts reads every turn's WAV through the codec, so a bad file
// fails the run before it starts.
func loadScripts(dir string, calls []ScriptCall, codec media.Codec) error {
	cache := map[string][]int16{}
	for ci := range calls {
		for ti := range calls[ci].Turns {
			t := &calls[ci].Turns[ti]
			if t.Kind != "speech" {
				continue
			}
			if pcm, ok := cache[t.Payload]; ok {
				t.pcm = pcm
				continue
			}
			a, err := media.ReadWAVFile(filepath.Join(dir, t.Payload))
			if err != nil {
				return fmt.Errorf("%w: %s: %v", ErrScript, t.Payload, err)
			}
			t.pcm = codec.Decode(nil, codec.Encode(nil, a.Mono8k()))
			cache[t.Payload] = t.pcm
		}
	}
	return nil
}

// evalCall runs one scripted call.
func evalCall(ctx context.Context, cfg EvalConfig, st *store.SQLite, cat *prompts.Catalog, i int, sc ScriptCall) (CallResult, error) {
	res := CallResult{Name: sc.Name, Label: sc.Label, FirstFrustrated: firstFrustrated(sc)}
	phone := fmt.Sprintf("+1555%07d", 7000000+i)
	_, err := st.AddAccount(ctx, store.NewAccount{Number: fmt.Sprintf("9%07d", i), Phones: []string{phone},
		PIN: "2468", Balance: store.Money{Minor: 32109, Currency: "USD"}, NextAmount: store.Money{Minor: 5410, Currency: "USD"},
		NextDue: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), CardLast4: "4242"})
	if err != nil {
		return res, fmt.Errorf("call %s: account: %w", sc.Name, err)
	}
	callCtx, hangup := context.WithTimeout(ctx, 2*time.Minute)
	defer hangup()
	log := cfg.Log.With("call", sc.Name)
	scfg := cfg.Stream
	scfg.Log = log
	stream, err := cfg.Recognizer.NewStream(callCtx, scfg)
	if err != nil {
		return res, fmt.Errorf("call %s: %w", sc.Name, err)
	}
	defer stream.Close()
	c := &scriptCall{turns: sc.Turns, stream: stream, log: log, hangup: hangup,
		tail:   make([]int16, int(1500*time.Millisecond/(20*time.Millisecond))*media.FrameSamples),
		digits: make(chan media.DTMF, 64), speech: make(chan asr.Event, 8),
		starts: make(chan struct{}, 8), audio: make(chan []int16, 1), fed: make(chan struct{}, 1)}
	c.tail = cfg.Codec.Decode(nil, cfg.Codec.Encode(nil, c.tail))
	c.lead = c.tail[:len(c.tail)/3] // 500 ms
	b := New(Config{Store: st, Prompts: cat, Caller: phone, To: "ivr", CallID: "eval-" + sc.Name,
		NoInput: cfg.NoInput, InterDigit: time.Second, PayGrammar: GrammarPayChoice,
		Frustration: cfg.Frustration, Log: log})
	g, gctx := errgroup.WithContext(callCtx)
	g.Go(func() error { return c.pump(gctx) })
	g.Go(func() error { return c.feed(gctx) })
	runErr := b.Run(callCtx, c)
	hangup()
	stream.Close()
	g.Wait()
	if runErr != nil && callCtx.Err() == nil {
		res.Error = runErr.Error()
	}
	rec := b.Record()
	res.Outcome = rec.Outcome
	if rec.Handover != nil {
		res.Reason, res.Detail = rec.Handover.Reason, rec.Handover.Detail
		res.HandoverTurn = c.Given()
		if res.FirstFrustrated > 0 && res.HandoverTurn >= res.FirstFrustrated {
			res.TurnsToHandover = res.HandoverTurn - res.FirstFrustrated + 1
		}
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

// firstFrustrated is the first turn marked frustrated (or agent), 1-based.
func firstFrustrated(sc ScriptCall) int {
	for i, t := range sc.Turns {
		if t.Frustrated || t.Agent {
			return i + 1
		}
	}
	return 0
}
