package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/bot"
)

// botCommand is `ivr bot`: tools around the dialog.
func botCommand() *cli.Command {
	return &cli.Command{
		Name:  "bot",
		Usage: "speech bot tools",
		Subcommands: []*cli.Command{{
			Name: "eval",
			Usage: "run scripted calls (DIR/calls.tsv, labelled calm, frustrated or agent) through the bot with the real " +
				"recognizer and print the frustration detection rate, false escalations and turns to handover",
			ArgsUsage: "DIR",
			Flags: append([]cli.Flag{
				&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
				&cli.StringFlag{Name: "model-dir", Usage: "PocketSphinx model directory (default: from pkg-config)"},
				&cli.IntFlag{Name: "concurrency", Value: 1, Usage: "calls run at once (1 gives the same figures every run: each stream's front-end noise is seeded in order)"},
				&cli.StringSliceFlag{Name: "set", Usage: "a frustration setting, e.g. --set threshold=0.8 --set cue=0.5 (see bot.FrustrationConfig.Set)"},
				&cli.BoolFlag{Name: "calls", Usage: "list every call's result"},
				&cli.BoolFlag{Name: "verbose", Usage: "log the bots' turns to stderr"},
			}, recognitionFlags()...),
			Action: botEval,
		}},
	}
}

func botEval(c *cli.Context) error {
	dir := c.Args().First()
	if dir == "" {
		return errors.New("bot eval: directory missing")
	}
	fc, err := frustrationSettings(c.StringSlice("set"))
	if err != nil {
		return fmt.Errorf("bot eval: --set: %w", err)
	}
	level := slog.LevelWarn
	if c.Bool("verbose") {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := asr.SphinxConfig{ModelDir: c.String("model-dir"), Grammars: append(asr.DefaultGrammars(), bot.Grammars()...), Log: log,
		Decoders: asr.DecodersFor(max(1, c.Int("concurrency")))}
	applyRecognitionFlags(c, &cfg)
	rec, err := asr.NewSphinx(cfg)
	if err != nil {
		return err
	}
	defer rec.Close()
	start := time.Now()
	rep, err := bot.Eval(c.Context, dir, bot.EvalConfig{Recognizer: rec, Frustration: fc, Concurrency: c.Int("concurrency"),
		Log: log, Progress: func(done, total int, r bot.CallResult) {
			fmt.Fprintf(os.Stderr, "\r[%d/%d] %-20s", done, total, r.Name)
		}})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printBotReport(rep, time.Since(start), c.Bool("calls"))
	return nil
}

func printBotReport(rep *bot.EvalReport, took time.Duration, calls bool) {
	if calls {
		for _, r := range rep.Results {
			fmt.Printf("%-16s %-10s %-13s first %d handover %d (%d turns) %s %s %s\n", r.Name, r.Label, r.Outcome,
				r.FirstFrustrated, r.HandoverTurn, r.TurnsToHandover, r.Reason, r.Detail, r.Error)
		}
	}
	fmt.Printf("calls                      %d (%d frustrated, %d calm, %d asking for a person), %s\n",
		rep.Calls, rep.Frustrated, rep.Calm, rep.Agent, took.Round(time.Millisecond))
	fmt.Printf("frustration detected       %.1f%% of frustrated calls\n", 100*rep.DetectionRate)
	fmt.Printf("  within 2 turns           %.1f%% (target >= 90%%)\n", 100*rep.DetectedWithin2)
	fmt.Printf("handed over within 2 turns %.1f%% of frustrated calls (any reason: also 'agent' heard in angry words)\n", 100*rep.EscalatedWithin2)
	fmt.Printf("  turns to handover        mean %.2f, max %d (1: on the first frustrated turn)\n", rep.MeanTurnsToHandover, rep.MaxTurnsToHandover)
	fmt.Printf("false escalations          %.1f%% of calm calls (target <= 5%%)\n", 100*rep.FalseEscalationRate)
	fmt.Printf("  for frustration          %.1f%% (the rest: a person heard in calm words, or the bot gave up)\n", 100*rep.FalseFrustrationRate)
	fmt.Printf("asked, handed over at once %.1f%% (target 100%%)\n", 100*rep.AgentWithin1)
}

// frustrationSettings reads "name=value" settings of the frustration
// detector (bot.FrustrationConfig.Set), from `ivr bot eval --set` and
// `ivr serve --frustration`.
func frustrationSettings(kvs []string) (bot.FrustrationConfig, error) {
	var fc bot.FrustrationConfig
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return fc, fmt.Errorf("%q: want name=number", kv)
		}
		if err := fc.Set(strings.TrimSpace(k), f); err != nil {
			return fc, err
		}
	}
	return fc, nil
}
