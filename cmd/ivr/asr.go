package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/asr"
	"github.com/supportline/ivr/media"
)

// asrCommand is `ivr asr`: tools around speech recognition.
func asrCommand() *cli.Command {
	return &cli.Command{
		Name:  "asr",
		Usage: "speech recognition tools",
		Subcommands: []*cli.Command{
			{
				Name:      "eval",
				Usage:     "run a corpus (DIR/corpus.tsv) through the call's recognition path and print accuracy, false accepts, RTF and latency",
				ArgsUsage: "DIR",
				Flags: append(asrFlags(),
					&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
					&cli.StringFlag{Name: "codec", Value: "PCMU", Usage: "G.711 law the clips go through: PCMU or PCMA"},
					&cli.IntFlag{Name: "concurrency", Value: 1, Usage: "clips decoded at once"},
					&cli.Float64Flag{Name: "min-intent-accuracy", Usage: "fail if intent accuracy is below this (0-1)"},
					&cli.Float64Flag{Name: "max-false-accept", Value: 1, Usage: "fail if the false-accept rate is above this (0-1)"},
					&cli.BoolFlag{Name: "errors", Usage: "list the clips that went wrong"},
				),
				Action: asrEval,
			},
			{
				Name:      "load",
				Usage:     "feed N concurrent streams in real time from a corpus and report whether they keep up",
				ArgsUsage: "DIR",
				Flags: append(asrFlags(),
					&cli.IntFlag{Name: "streams", Value: 50, Usage: "concurrent streams (calls)"},
					&cli.DurationFlag{Name: "duration", Value: 30 * time.Second, Usage: "how long the figures are measured once every stream has started"},
					&cli.DurationFlag{Name: "spread", Value: asr.DefaultLoadSpread, Usage: "stagger the streams' starts over this time, as calls arrive (-1ns: all at once, in step)"},
					&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
				),
				Action: asrLoad,
			},
			{
				Name:      "hear",
				Usage:     "write the 16 kHz audio the decoder hears from a WAV (G.711 round trip, then the phone front-end): to listen to, or to adapt the model with (scripts/gen-mllr.sh)",
				ArgsUsage: "IN.wav OUT.wav",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "codec", Value: "PCMU", Usage: "G.711 law the audio goes through: PCMU or PCMA"},
					&cli.Float64Flag{Name: "noise", Usage: "band-fill noise RMS as a fraction of full scale (default 0.003; -1 disables)"},
					&cli.Float64Flag{Name: "noise-lowcut", Usage: "high-pass the band-fill noise above this many Hz (default: white noise)"},
				},
				Action: asrHear,
			},
		},
	}
}

func asrFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "model-dir", Usage: "PocketSphinx model directory holding en-us/ and cmudict-en-us.dict (default: from pkg-config)"},
		&cli.IntFlag{Name: "decoders", Usage: "decoder pool size, each ~30 MB (default 12 per CPU)"},
		&cli.IntFlag{Name: "stream-reserve", Usage: "decoders kept for utterances decoded at the end of speech (default one per CPU; -1: none)"},
		&cli.Float64Flag{Name: "noise", Usage: "band-fill noise RMS as a fraction of full scale (default 0.003; -1 disables)"},
		&cli.Float64Flag{Name: "noise-lowcut", Usage: "high-pass the band-fill noise above this many Hz (default: white noise)"},
		&cli.DurationFlag{Name: "end-silence", Usage: "end-of-speech silence (default 400ms)"},
		&cli.DurationFlag{Name: "short-end-silence", Usage: "end-of-speech silence once a complete phrase is heard (default 240ms; -1ns disables)"},
		&cli.BoolFlag{Name: "verbose", Usage: "let PocketSphinx log to stderr"},
	}, recognitionFlags()...)
}

// recognitionFlags tune what the recognizer accepts; `ivr asr eval` and
// `ivr bot eval` share them so a setting can be measured on both.
func recognitionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "mllr", Usage: "MLLR transform of the acoustic model to the phone channel: a file from scripts/gen-mllr.sh, or none (default: the embedded asr/phone.mllr)"},
		&cli.Float64Flag{Name: "garbage-weight", Usage: "weight of the out-of-grammar phone loop (default 1e-12)"},
		&cli.IntFlag{Name: "background", Usage: "add this many common English words (300 measured best) as an out-of-grammar loop to the closed grammars (main, confirm); 0: at the yes/no questions only, as in serve; -1: nowhere"},
		&cli.Float64Flag{Name: "background-weight", Usage: "weight of each background word (default 1e-24)"},
		&cli.Float64Flag{Name: "min-confidence", Usage: "reject results whose words explain less than this share of the speech (default 0: off)"},
		&cli.StringSliceFlag{Name: "decoder-arg", Usage: "extra decoder argument pair, e.g. --decoder-arg=-beam --decoder-arg=1e-40"},
		&cli.Float64Flag{Name: "max-acoustic-gap", Usage: "reject results whose words fit the audio worse than this per-frame score gap (default 50; -1: off)"},
		&cli.Float64Flag{Name: "max-agent-gap", Usage: "the same limit for requests for a person alone (default: --max-acoustic-gap; -1: off)"},
		&cli.Float64Flag{Name: "max-bare-agent-gap", Usage: "a higher limit for a request said with the words for a person alone (\"operator\", \"a real person\") that explain at least half of the speech (default 58; -1: none, --max-agent-gap applies)"},
		&cli.IntFlag{Name: "retry-decoders", Usage: "wide-beam decoders that decode an utterance again when the search found no path through the grammar (default one per CPU; -1: no retry)"},
		&cli.IntFlag{Name: "verify-agent", Usage: "decode a request for a person at the main question again with this many background words (300 measured), and let that result stand (default 0: off)"},
		&cli.Float64Flag{Name: "min-phone-frames", Usage: "reject results whose words take fewer 10 ms frames per phone than this (default 4.5; -1: off)"},
	}
}

// applyRecognitionFlags sets recognitionFlags on a configuration whose
// Grammars are already chosen.
func applyRecognitionFlags(c *cli.Context, cfg *asr.SphinxConfig) {
	for _, g := range withLoops(cfg.Grammars, c.Int("background"), c.Int("verify-agent")) {
		if w := c.Float64("garbage-weight"); w != 0 {
			g.GarbageWeight = w
		}
		if w := c.Float64("background-weight"); w != 0 && !g.Open {
			g.BackgroundWeight = w
		}
	}
	if extra := c.StringSlice("decoder-arg"); len(extra) > 0 {
		cfg.Args = append(append([]string(nil), asr.DefaultDecoderArgs...), extra...)
	}
	cfg.MLLR = c.String("mllr")
	cfg.MinConfidence = c.Float64("min-confidence")
	cfg.MaxAcousticGap = c.Float64("max-acoustic-gap")
	cfg.MaxAgentGap = c.Float64("max-agent-gap")
	cfg.MaxBareAgentGap = c.Float64("max-bare-agent-gap")
	cfg.MinPhoneFrames = c.Float64("min-phone-frames")
	cfg.RetryDecoders = c.Int("retry-decoders")
}

// withLoops sets the background word loop and the second decode of
// requests for a person on gs and returns gs. background > 0 gives the
// closed grammars (not the open digits and amounts, whose phrases can always
// go on) a loop of that many common English words beside their rules
// (asr.Grammar.Background); verifyAgent > 0 decodes a request for a person
// at the main question again with that many (asr.Grammar.VerifyAgent).
// 0 leaves the grammars as they are (the loop at the yes/no questions only,
// no second decode); negative takes either out of every grammar.
func withLoops(gs []*asr.Grammar, background, verifyAgent int) []*asr.Grammar {
	for _, g := range gs {
		switch {
		case background < 0:
			g.Background = 0
		case background > 0 && !g.Open:
			g.Background = background
		}
		switch {
		case verifyAgent < 0:
			g.VerifyAgent = 0
		case verifyAgent > 0 && g.Name == asr.GrammarMain:
			g.VerifyAgent = verifyAgent
		}
	}
	return gs
}

// newSphinxFromFlags opens the recognizer; streams > 0 sizes the default
// pool for that many streams at once (an evaluation: a server's default
// pool would take seconds to load for nothing).
func newSphinxFromFlags(c *cli.Context, log *slog.Logger, streams int) (*asr.Sphinx, error) {
	cfg := asr.SphinxConfig{
		ModelDir:      c.String("model-dir"),
		Decoders:      c.Int("decoders"),
		StreamReserve: c.Int("stream-reserve"),
		Grammars:      asr.DefaultGrammars(),
		FrontEnd:      asr.FrontEndConfig{NoiseRMS: c.Float64("noise"), LowCut: c.Float64("noise-lowcut")},
		Log:           log,
		Verbose:       c.Bool("verbose"),
	}
	if cfg.Decoders == 0 && streams > 0 {
		cfg.Decoders = asr.DecodersFor(streams)
	}
	applyRecognitionFlags(c, &cfg)
	return asr.NewSphinx(cfg)
}

func streamConfigFromFlags(c *cli.Context) asr.StreamConfig {
	return asr.StreamConfig{
		VAD:             asr.VADConfig{EndSilence: c.Duration("end-silence")},
		ShortEndSilence: c.Duration("short-end-silence"),
	}
}

func asrEval(c *cli.Context) error {
	dir := c.Args().First()
	if dir == "" {
		return errors.New("asr eval: corpus directory missing")
	}
	codec, err := media.CodecByName(c.String("codec"))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rec, err := newSphinxFromFlags(c, log, max(1, c.Int("concurrency")))
	if err != nil {
		return err
	}
	defer rec.Close()
	start := time.Now()
	rep, err := asr.Eval(c.Context, rec, dir, asr.EvalConfig{
		Codec:       codec,
		Stream:      streamConfigFromFlags(c),
		Concurrency: c.Int("concurrency"),
		Progress: func(done, total int, r asr.ClipResult) {
			mark := "ok "
			if r.GotIntent != r.Intent {
				mark = "ERR"
			}
			fmt.Fprintf(os.Stderr, "\r[%d/%d] %s %-40s", done, total, mark, r.Path)
		},
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(rep, rec, time.Since(start), c.Bool("errors"))
	}
	if rep.IntentAccuracy < c.Float64("min-intent-accuracy") {
		return fmt.Errorf("asr eval: intent accuracy %.3f below %.3f", rep.IntentAccuracy, c.Float64("min-intent-accuracy"))
	}
	if rep.FalseAcceptRate > c.Float64("max-false-accept") {
		return fmt.Errorf("asr eval: false-accept rate %.3f above %.3f", rep.FalseAcceptRate, c.Float64("max-false-accept"))
	}
	return nil
}

func printReport(rep *asr.Report, rec *asr.Sphinx, took time.Duration, listErrors bool) {
	if listErrors {
		for _, r := range rep.Results {
			if r.GotIntent != r.Intent || (r.Intent != asr.IntentNone && r.GotText != r.Text) {
				fmt.Printf("%-36s %-14s -> %-14s %q -> %q (conf %.2f)\n", r.Path, r.Intent, r.GotIntent, r.Text, r.GotText, r.Confidence)
			}
		}
	}
	st := rec.Stats()
	fmt.Printf("clips                 %d (%d in grammar, %d out of grammar), %s\n", rep.Clips, rep.InGrammar, rep.OutOfGrammar, took.Round(time.Millisecond))
	fmt.Printf("front-end             %s\n", rec.FrontEndString())
	fmt.Printf("exact-phrase accuracy %.1f%%\n", 100*rep.ExactAccuracy)
	fmt.Printf("intent accuracy       %.1f%%\n", 100*rep.IntentAccuracy)
	fmt.Printf("word error rate       %.1f%%\n", 100*rep.WER)
	fmt.Printf("false-accept rate     %.1f%%\n", 100*rep.FalseAcceptRate)
	fmt.Printf("real-time factor      %.4f CPU (%.4f wall x concurrency %d)\n", rep.RTF, rep.WallRTF, rep.Concurrency)
	fmt.Printf("end-of-speech->final  p50 %.1f ms, p95 %.1f ms (after the endpoint silence)\n", rep.LatencyP50MS, rep.LatencyP95MS)
	fmt.Printf("decoder wait          p95 %.1f ms; pool %d, %d of %d utterances waited\n", rep.DecoderWaitP95MS, st.Size, st.Waited, st.Acquired)
}

func asrLoad(c *cli.Context) error {
	dir := c.Args().First()
	if dir == "" {
		return errors.New("asr load: corpus directory missing")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rec, err := newSphinxFromFlags(c, log, 0)
	if err != nil {
		return err
	}
	defer rec.Close()
	fmt.Fprintf(os.Stderr, "feeding %d streams in real time for %s...\n", c.Int("streams"), c.Duration("duration"))
	rep, err := asr.Load(c.Context, rec, dir, asr.LoadConfig{
		Streams:  c.Int("streams"),
		Duration: c.Duration("duration"),
		Spread:   c.Duration("spread"),
		Stream:   streamConfigFromFlags(c),
	})
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return json.NewEncoder(os.Stdout).Encode(rep)
	}
	st := rec.Stats()
	fmt.Printf("streams               %d (started over %.1f s), measured for %.0f s: %d utterances, %d correct (%.1f%%)\n",
		rep.Streams, rep.SpreadSec, rep.DurationSec, rep.Utterances, rep.Correct, 100*float64(rep.Correct)/float64(max(1, rep.Utterances)))
	fmt.Printf("CPU                   %.2f cores, RTF per stream %.4f\n", rep.CPUUse, rep.RTF)
	fmt.Printf("end-of-speech->final  p50 %.1f ms, p95 %.1f ms, max %.1f ms\n", rep.LatencyP50MS, rep.LatencyP95MS, rep.LatencyMaxMS)
	fmt.Printf("decoder wait          p95 %.1f ms, max %.1f ms; pool %d, %d of %d utterances waited\n", rep.WaitP95MS, rep.WaitMaxMS, st.Size, st.Waited, st.Acquired)
	fmt.Printf("blocked writes        %d frames\n", rep.LateFrames)
	return nil
}

// asrHear renders a WAV through the call's audio path up to the decoder.
func asrHear(c *cli.Context) error {
	in, out := c.Args().Get(0), c.Args().Get(1)
	if in == "" || out == "" || c.NArg() > 2 {
		return errors.New("asr hear: want IN.wav OUT.wav")
	}
	codec, err := media.CodecByName(c.String("codec"))
	if err != nil {
		return err
	}
	a, err := media.ReadWAVFile(in)
	if err != nil {
		return err
	}
	fe := asr.NewFrontEnd(asr.FrontEndConfig{NoiseRMS: c.Float64("noise"), LowCut: c.Float64("noise-lowcut")}, 0)
	pcm := fe.Process(nil, codec.Decode(nil, codec.Encode(nil, a.Mono8k())))
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w, err := media.NewWAVWriter(f, 2*media.SampleRate, 1)
	if err == nil {
		err = w.Write(pcm)
	}
	if err == nil {
		err = w.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("asr hear: %w", err)
	}
	return nil
}
