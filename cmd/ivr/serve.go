package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/bot"
	"github.com/supportline/ivr/bridge"
	"github.com/supportline/ivr/server"
	"github.com/supportline/ivr/store"
)

func serveCommand() *cli.Command {
	d := server.Defaults()
	flags := []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: "YAML config file (keys are the flag names)", EnvVars: []string{"IVR_CONFIG"}},
		altsrc.NewStringFlag(&cli.StringFlag{Name: "sip-addr", Value: d.SIPAddr, Usage: "SIP listen address, UDP and TCP", EnvVars: []string{"IVR_SIP_ADDR"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "http-addr", Value: d.HTTPAddr, Usage: "HTTP listen address: agent softphone, supervisor page, /healthz", EnvVars: []string{"IVR_HTTP_ADDR"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "public-addr", Usage: "IP address written in SDP and Contact (default: the SIP listen host)", EnvVars: []string{"IVR_PUBLIC_ADDR"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "rtp-ports", Value: fmt.Sprintf("%d-%d", d.RTPLow, d.RTPHigh), Usage: "RTP port range LOW-HIGH", EnvVars: []string{"IVR_RTP_PORTS"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "data-dir", Value: d.DataDir, Usage: "directory for the database, recordings and call records", EnvVars: []string{"IVR_DATA_DIR"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "prompts-dir", Usage: "directory with catalog.tsv and MP3 prompts to use instead of the built-in set", EnvVars: []string{"IVR_PROMPTS_DIR"}}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "max-calls", Value: d.MaxCalls, Usage: "concurrent call limit (more get 503 with Retry-After)", EnvVars: []string{"IVR_MAX_CALLS"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "ring-time", Value: d.RingTime, Usage: "send 180 Ringing this long before answering (0: answer at once)", EnvVars: []string{"IVR_RING_TIME"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "rtp-timeout", Value: d.RTPTimeout, Usage: "hang up a call after this long without RTP", EnvVars: []string{"IVR_RTP_TIMEOUT"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "no-input-timeout", Value: d.NoInputTimeout, Usage: "how long the menu waits for a key", EnvVars: []string{"IVR_NO_INPUT_TIMEOUT"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "max-call-time", Value: d.MaxCallTime, Usage: "hard cap on a call's length", EnvVars: []string{"IVR_MAX_CALL_TIME"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "drain-time", Value: d.DrainTime, Usage: "on SIGTERM, how long calls in progress may go on (new calls get 503) before they hear a goodbye and are hung up; a second signal stops at once", EnvVars: []string{"IVR_DRAIN_TIME"}}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "asr", Value: true, Usage: "speech recognition (PocketSphinx); --asr=false for keypad only", EnvVars: []string{"IVR_ASR"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "asr-model-dir", Usage: "PocketSphinx model directory (default: from pkg-config)", EnvVars: []string{"IVR_ASR_MODEL_DIR"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "asr-mllr", Usage: "MLLR transform of the acoustic model to the phone channel: a file from scripts/gen-mllr.sh, or none (default: the embedded one)", EnvVars: []string{"IVR_ASR_MLLR"}}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "asr-decoders", Usage: "decoder pool size, each ~30 MB (default: 12 per CPU, at most --max-calls + 1 per CPU)", EnvVars: []string{"IVR_ASR_DECODERS"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "asr-end-silence", Value: 400 * time.Millisecond, Usage: "silence that ends an utterance", EnvVars: []string{"IVR_ASR_END_SILENCE"}}),
		altsrc.NewFloat64Flag(&cli.Float64Flag{Name: "asr-max-acoustic-gap", Value: asr.DefaultMaxAcousticGap, Usage: "reject results whose words fit the audio worse than this per-frame score gap: lower rejects more out-of-grammar speech and more real answers (README's trade; -1: off)", EnvVars: []string{"IVR_ASR_MAX_ACOUSTIC_GAP"}}),
		altsrc.NewFloat64Flag(&cli.Float64Flag{Name: "asr-max-agent-gap", Usage: "the same limit for requests for a person alone: higher hears more real requests and hands over more calm callers (README's trade; default: --asr-max-acoustic-gap; -1: off)", EnvVars: []string{"IVR_ASR_MAX_AGENT_GAP"}}),
		altsrc.NewFloat64Flag(&cli.Float64Flag{Name: "asr-max-bare-agent-gap", Value: asr.DefaultMaxBareAgentGap, Usage: "a higher limit for a request said with the words for a person alone (\"operator\", \"a real person\") that explain at least half of the speech: the requests the agent limit lost, without the calm callers' sentences (README; -1: none, --asr-max-agent-gap applies)", EnvVars: []string{"IVR_ASR_MAX_BARE_AGENT_GAP"}}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "asr-background", Usage: "add this many common English words (300 measured) as an out-of-grammar loop beside the closed grammars' rules: real off-topic speech taken for a request halves, at about 1.4x the recognition CPU (README: for fewer calls than the 50 two cores take without it, with --asr-max-acoustic-gap -1 --asr-max-agent-gap 56; 0: only at the yes/no questions, where it is on by default; -1: nowhere)", EnvVars: []string{"IVR_ASR_BACKGROUND"}}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "asr-verify-agent", Usage: "decode a request for a person at the main question a second time with this many background words (300 measured), and let that result stand: real off-topic sentences taken for a request for a person 124 -> 49 of 480, but 4 of 96 scripted requests lost (README; 0: off)", EnvVars: []string{"IVR_ASR_VERIFY_AGENT"}}),
		altsrc.NewFloat64Flag(&cli.Float64Flag{Name: "asr-min-phone-frames", Value: asr.DefaultMinPhoneFrames, Usage: "reject results whose words take fewer 10 ms frames per phone than this: higher rejects more out-of-grammar speech and fast talkers (README; -1: off)", EnvVars: []string{"IVR_ASR_MIN_PHONE_FRAMES"}}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "pin-max-fails", Value: 3, Usage: "wrong PINs in a row that lock an account", EnvVars: []string{"IVR_PIN_MAX_FAILS"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "lock-for", Value: 30 * time.Minute, Usage: "how long a locked account stays locked", EnvVars: []string{"IVR_LOCK_FOR"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "flow", Value: "bot", Usage: "call flow: bot (the support-line bot) or menu (a short keypad/speech test menu for checking a line)", EnvVars: []string{"IVR_FLOW"}}),
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "frustration", Usage: "frustration detector setting name=value, e.g. threshold=0.8 (README)", EnvVars: []string{"IVR_FRUSTRATION"}}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "demo-accounts", Usage: "add the documented demo accounts when the store has none", EnvVars: []string{"IVR_DEMO_ACCOUNTS"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "agent-offer-timeout", Value: bridge.DefaultOfferTimeout, Usage: "how long an agent's browser rings before the call goes to the next agent", EnvVars: []string{"IVR_AGENT_OFFER_TIMEOUT"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "ice-servers", Usage: "comma-separated STUN/TURN URLs for agents behind NAT (turn:user:pass@host:port for TURN with credentials)", EnvVars: []string{"IVR_ICE_SERVERS"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "turn-secret", Usage: "coturn static-auth-secret: time-limited TURN credentials per agent and call for the --ice-servers turn: URLs", EnvVars: []string{"IVR_TURN_SECRET"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "webrtc-ips", Usage: "comma-separated addresses for WebRTC host candidates (default: the HTTP listen host)", EnvVars: []string{"IVR_WEBRTC_IPS"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "webrtc-ports", Usage: "UDP port range LOW-HIGH for WebRTC (default: any)", EnvVars: []string{"IVR_WEBRTC_PORTS"}}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "metrics", Value: true, Usage: "Prometheus metrics at GET /metrics on the HTTP address; --metrics=false to turn off", EnvVars: []string{"IVR_METRICS"}}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "record-calls", Usage: "record every call as a stereo WAV (caller left, IVR/agent right) under <data-dir>/recordings, paused while a PIN or card is keyed", EnvVars: []string{"IVR_RECORD_CALLS"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error", EnvVars: []string{"IVR_LOG_LEVEL"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json", EnvVars: []string{"IVR_LOG_FORMAT"}}),
	}
	flags = append(flags, sipSecFlags()...)
	flags = append(flags, tlsFlags()...)
	return &cli.Command{
		Name:   "serve",
		Usage:  "answer SIP calls (UDP and TCP) with the IVR",
		Flags:  flags,
		Before: altsrc.InitInputSourceWithContext(flags, optionalYAML("config")),
		Action: runServe,
	}
}

// optionalYAML reads the config file only when --config was given.
func optionalYAML(flag string) func(*cli.Context) (altsrc.InputSourceContext, error) {
	return func(c *cli.Context) (altsrc.InputSourceContext, error) {
		if c.String(flag) == "" {
			return &altsrc.MapInputSource{}, nil
		}
		src, err := altsrc.NewYamlSourceFromFile(c.String(flag))
		if err != nil {
			return nil, fmt.Errorf("config file %s: %w", c.String(flag), err)
		}
		return src, nil
	}
}

func newLogger(c *cli.Context) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	w := c.App.ErrWriter // os.Stderr unless a test captures it
	if w == nil {
		w = os.Stderr
	}
	switch c.String("log-format") {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.String("log-format"))
}

// parseRange reads "LOW-HIGH".
func parseRange(s string) (int, int, error) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("port range %q: want LOW-HIGH", s)
	}
	l, err1 := strconv.Atoi(strings.TrimSpace(lo))
	h, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("port range %q: want LOW-HIGH", s)
	}
	return l, h, nil
}

func runServe(c *cli.Context) error {
	log, err := newLogger(c)
	if err != nil {
		return err
	}
	quietLibrary(log)
	cfg := server.Defaults()
	cfg.SIPAddr = c.String("sip-addr")
	cfg.HTTPAddr = c.String("http-addr")
	cfg.PublicAddr = c.String("public-addr")
	cfg.DataDir = c.String("data-dir")
	cfg.PromptsDir = c.String("prompts-dir")
	cfg.MaxCalls = c.Int("max-calls")
	cfg.RingTime = c.Duration("ring-time")
	cfg.RTPTimeout = c.Duration("rtp-timeout")
	cfg.NoInputTimeout = c.Duration("no-input-timeout")
	cfg.MaxCallTime = c.Duration("max-call-time")
	cfg.DrainTime = c.Duration("drain-time")
	cfg.RecordCalls = c.Bool("record-calls")
	cfg.Log = log
	if cfg.RTPLow, cfg.RTPHigh, err = parseRange(c.String("rtp-ports")); err != nil {
		return err
	}
	if err := sipSecConfig(c, &cfg); err != nil {
		return err
	}
	if err := applyTLSFlags(c, &cfg); err != nil {
		return err
	}
	st, err := store.Open(c.Context, cfg.DataDir, store.WithLogger(log))
	if err != nil {
		return err
	}
	defer st.Close()
	if c.Bool("demo-accounts") {
		if seeded, err := store.SeedDemo(c.Context, st); err != nil {
			return fmt.Errorf("demo accounts: %w", err)
		} else if seeded {
			log.Info("demo accounts added", "accounts", len(store.DemoAccounts()))
		}
	}
	cat, err := server.LoadPrompts(cfg, log)
	if err != nil {
		return err
	}
	botCfg := bot.Config{
		Store: st, Prompts: cat, NoInput: cfg.NoInputTimeout, SaveRecord: true,
		MaxPINFails: c.Int("pin-max-fails"), LockFor: c.Duration("lock-for"),
	}
	if botCfg.Frustration, err = frustrationSettings(c.StringSlice("frustration")); err != nil {
		return fmt.Errorf("--frustration: %w", err)
	}
	mx := newMetrics(c)
	br, err := newBridge(c, cfg, st, cat, log, mx.bridgeObserver())
	if err != nil {
		return err
	}
	opts := []server.Option{server.WithPrompts(cat), server.WithHTTPHandler(br.Handler()), server.WithSIPUsers(st),
		server.WithRecordingSaver(recordingSaver(st))}
	opts = append(opts, mx.serverOptions()...)
	if c.Bool("asr") {
		rec, err := asr.NewSphinx(asr.SphinxConfig{
			ModelDir: c.String("asr-model-dir"),
			Decoders: serveDecoders(c.Int("asr-decoders"), cfg.MaxCalls),
			MLLR:     c.String("asr-mllr"),
			Grammars: withLoops(append(asr.DefaultGrammars(), bot.Grammars()...), c.Int("asr-background"), c.Int("asr-verify-agent")),
			Args:     asr.DefaultDecoderArgs,
			Log:      log,

			MaxAcousticGap:  c.Float64("asr-max-acoustic-gap"),
			MaxAgentGap:     c.Float64("asr-max-agent-gap"),
			MaxBareAgentGap: c.Float64("asr-max-bare-agent-gap"),
			MinPhoneFrames:  c.Float64("asr-min-phone-frames"),
		})
		if err != nil {
			return fmt.Errorf("speech recognition: %w (run with --asr=false for keypad only)", err)
		}
		defer rec.Close()
		mx.src.Decoders = rec
		botCfg.PayGrammar = bot.GrammarPayChoice
		opts = append(opts, server.WithRecognizer(rec, asr.StreamConfig{
			VAD: asr.VADConfig{EndSilence: c.Duration("asr-end-silence")},
		}))
	}
	switch c.String("flow") {
	case "bot":
		opts = append(opts, server.WithFlow(func(info server.CallInfo) server.Flow {
			cfg := botCfg
			cfg.Caller, cfg.To, cfg.CallID = info.From, info.To, info.ID
			return botFlow{b: bot.New(cfg), br: br, st: st}
		}))
	case "menu": // the server's default flow
	default:
		return fmt.Errorf("--flow %q: want bot or menu", c.String("flow"))
	}
	srv, err := server.New(cfg, opts...)
	if err != nil {
		return err
	}
	mx.watch(srv, br)
	return runUntilSignalled(srv, log)
}

// runUntilSignalled runs srv until SIGTERM or SIGINT, which starts a
// graceful shutdown (drain); a second signal makes it stop at once.
func runUntilSignalled(srv *server.Server, log *slog.Logger) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan struct{})
	defer close(done)
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case sig := <-sigs:
			log.Info("shutting down: draining calls; signal again to stop now", "signal", sig.String())
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			log.Warn("second signal: stopping now", "signal", sig.String())
			srv.StopNow()
		case <-done:
		}
	}()
	return srv.Run(ctx)
}

// Result implements server.Reporter: the bot's outcome, for metrics.
func (f botFlow) Result() server.FlowResult {
	rec := f.b.Record()
	r := server.FlowResult{Outcome: rec.Outcome, Contained: bot.Contained(rec)}
	if rec.Handover != nil {
		r.Reason = rec.Handover.Reason
	}
	return r
}

// botFlow runs the speech bot as a call's flow (server.Call satisfies
// bot.Call) and hands the call to the bridge when the bot asks for a person.
type botFlow struct {
	b  *bot.Bot
	br *bridge.Bridge
	st bridge.CardStore
}

func (f botFlow) Run(ctx context.Context, c server.Call) error {
	info := c.Info()
	defer f.br.BotCall(info.ID, info.From)()
	bc, ok := c.(server.Bridgeable)
	if !ok {
		return f.b.Run(ctx, c)
	}
	w := &handoverWatch{Bridgeable: bc, f: f}
	err := f.b.Run(ctx, w)
	rec := f.b.Record()
	if err != nil || rec.Handover == nil {
		if w.queued != nil {
			f.br.Cancel(w.queued)
		}
		return err
	}
	card, cerr := bridge.NewHandoffCard(ctx, f.st, rec)
	if cerr != nil {
		c.Log().Warn("handoff card incomplete", "error", cerr)
	}
	return f.br.Handoff(ctx, bc, bridge.HandoffContext{Card: card, Codec: info.Codec, Queued: w.queued})
}

// handoverWatch is the call as the bot sees it: once the bot has decided
// to hand over (its record says so when it says "transferring"), the call
// is queued at once, so an agent's browser rings during the bot's last
// words, and an agent who accepts cuts those words short.
type handoverWatch struct {
	server.Bridgeable
	f      botFlow
	queued *bridge.Waiting
	rang   bool
}

func (h *handoverWatch) Play(ctx context.Context, names ...string) (bool, error) {
	if !h.rang {
		if rec := h.f.b.Record(); rec.Handover != nil {
			h.rang = true
			card, _ := bridge.NewHandoffCard(ctx, h.f.st, rec)
			h.queued = h.f.br.Ring(card)
		}
	}
	if h.queued == nil {
		return h.Bridgeable.Play(ctx, names...)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	wg.Go(func() {
		if h.queued.AwaitAssigned(stop) {
			h.SetSource(nil) // stops the prompt: the agent is there
		}
	})
	return h.Bridgeable.Play(ctx, names...)
}

// recordingSaver lists a finished recording in the call's record.
func recordingSaver(st *store.SQLite) server.RecordingSaver {
	return func(ctx context.Context, r server.Recording) error {
		paused := make([]store.PausedWindow, len(r.Paused))
		for i, p := range r.Paused {
			paused[i] = store.PausedWindow{Start: p.Start, End: p.End}
		}
		return st.SaveRecording(ctx, r.CallID, r.Start, store.Recording{Path: r.Path, Duration: r.Duration, Paused: paused})
	}
}

// serveDecoders is the decoder pool of a server: the flag's, or no more
// than the calls it takes can use (a decoder holds about 30 MB).
func serveDecoders(flag, maxCalls int) int {
	if flag > 0 {
		return flag
	}
	return asr.DecodersFor(maxCalls)
}
