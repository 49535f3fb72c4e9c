package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/softphone"
)

// callCommand is `ivr call SIP-URI`: a scriptable test softphone and load generator.
func callCommand() *cli.Command {
	return &cli.Command{
		Name:      "call",
		Usage:     "place a scripted test call (or --calls N of them) and report events and timings",
		ArgsUsage: "SIP-URI",
		Description: "Script steps, one a line (blank lines and # comments allowed):\n" +
			"  play FILE.wav            any rate/channels, resampled to 8 kHz; path relative to the script\n" +
			"  dtmf DIGITS              RFC 4733 events (--dtmf-inband: tones in the audio)\n" +
			"  wait SECONDS\n" +
			"  wait-silence [TIMEOUT]   until the far end spoke and was then quiet for 700 ms (default 30 s)\n" +
			"  hangup\n" +
			"Without a script (or after its last step) the call lasts until the far end hangs up or --duration.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "from", Value: "tester", Usage: "user part of our From URI (caller number)"},
			&cli.StringFlag{Name: "transport", Usage: "SIP transport: udp, tcp or tls (default: tls for a sips: or ;transport=tls URI, else udp)"},
			&cli.StringFlag{Name: "tls-ca", Usage: "PEM `FILE` of the CA certificates trusted for TLS (default: the system roots)"},
			&cli.BoolFlag{Name: "srtp", Usage: "offer RTP/SAVP with fresh SDES keys (AES_CM_128_HMAC_SHA1_80 and _32)"},
			&cli.StringFlag{Name: "codec", Value: "pcmu", Usage: "the codec offered: pcmu or pcma"},
			&cli.StringFlag{Name: "script", Usage: "script `FILE` of steps"},
			&cli.StringFlag{Name: "record", Usage: "write what the far end sent to `OUT.wav` (8 kHz mono 16-bit; OUT-0007.wav per call with --calls)"},
			&cli.BoolFlag{Name: "json", Usage: "one JSON event per line on stdout"},
			&cli.BoolFlag{Name: "dtmf-inband", Usage: "send dtmf steps as tones in the audio instead of RFC 4733"},
			&cli.DurationFlag{Name: "dtmf-duration", Value: softphone.DefaultDTMFDuration, Usage: "length of each digit"},
			&cli.DurationFlag{Name: "dtmf-gap", Value: softphone.DefaultDTMFGap, Usage: "pause between digits"},
			&cli.DurationFlag{Name: "timeout", Value: softphone.DefaultSetupTimeout, Usage: "call set-up time-out (INVITE → answer)"},
			&cli.DurationFlag{Name: "duration", Usage: "hang up this long after the answer (0: when the far end or the script does)"},
			&cli.DurationFlag{Name: "no-rtp-timeout", Value: softphone.DefaultNoRTPTimeout, Usage: "fail an answered call that receives no RTP this long"},
			&cli.Float64Flag{Name: "activity-threshold", Value: softphone.DefaultActivityThreshold, Usage: "far-end audio level (dBFS) that counts as audio"},
			&cli.StringFlag{Name: "local", Value: "127.0.0.1:0", Usage: "local SIP bind `HOST:PORT`; RTP binds to the same host"},
			&cli.StringFlag{Name: "rtp-ports", Value: fmt.Sprintf("%d-%d", softphone.DefaultRTPLow, softphone.DefaultRTPHigh), Usage: "our RTP port range `LOW-HIGH`"},
			&cli.IntFlag{Name: "calls", Value: 1, Usage: "run N calls concurrently (load), one SIP socket"},
			&cli.Float64Flag{Name: "rate", Value: 10, Usage: "with --calls: calls started per second (0: all at once)"},
			&cli.BoolFlag{Name: "verbose", Usage: "debug logs on stderr"},
		}, callAuthFlags()...),
		Action: runCall,
	}
}

func runCall(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("call: want one SIP-URI, got %d arguments", c.NArg())
	}
	cfg, err := callConfig(c)
	if err != nil {
		return err
	}
	var script *softphone.Script
	if path := c.String("script"); path != "" {
		if script, err = softphone.ParseScript(path); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if done, err := registerFirst(ctx, c, cfg); done || err != nil {
		return err
	}
	defer unregister(c, cfg)
	epoch := time.Now()
	if n := c.Int("calls"); n > 1 {
		return runLoad(ctx, c, cfg, script, n, epoch)
	}
	var events softphone.EventSink = softphone.NewTextSink(os.Stdout, epoch)
	if c.Bool("json") {
		events = softphone.NewJSONSink(os.Stdout, epoch)
	}
	r, err := softphone.Dial(ctx, cfg, script, events)
	if err != nil && r != nil {
		return fmt.Errorf("call failed: %w", err)
	}
	return err // a bad configuration: nothing was dialed
}

func callConfig(c *cli.Context) (softphone.Config, error) {
	low, high, err := softphone.ParsePortRange(c.String("rtp-ports"))
	if err != nil {
		return softphone.Config{}, err
	}
	level := slog.LevelWarn
	if c.Bool("verbose") {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	quietLibrary(log)
	return callAuth(c, softphone.Config{
		Target:            c.Args().First(),
		From:              c.String("from"),
		Transport:         c.String("transport"),
		TLSCA:             c.String("tls-ca"),
		SRTP:              c.Bool("srtp"),
		Codec:             c.String("codec"),
		Local:             c.String("local"),
		RTPLow:            low,
		RTPHigh:           high,
		SetupTimeout:      c.Duration("timeout"),
		Duration:          c.Duration("duration"),
		NoRTPTimeout:      c.Duration("no-rtp-timeout"),
		DTMFInband:        c.Bool("dtmf-inband"),
		DTMFDuration:      c.Duration("dtmf-duration"),
		DTMFGap:           c.Duration("dtmf-gap"),
		Record:            c.String("record"),
		ActivityThreshold: c.Float64("activity-threshold"),
		Log:               log,
	})
}

func runLoad(ctx context.Context, c *cli.Context, cfg softphone.Config, script *softphone.Script, n int, epoch time.Time) error {
	var events softphone.EventSink
	if c.Bool("json") {
		events = softphone.NewJSONSink(os.Stdout, epoch)
	}
	cfg.Progress = func(p softphone.LoadProgress) { fmt.Fprintln(os.Stderr, p) }
	sum, err := softphone.Load(ctx, cfg, script, n, c.Float64("rate"), events)
	if err != nil {
		return err
	}
	if !c.Bool("json") {
		_, _ = io.WriteString(os.Stdout, sum.Text())
	}
	if sum.Failed > 0 || sum.Attempted < n {
		return fmt.Errorf("call: %d of %d calls failed, %d not started", sum.Failed, n, n-sum.Attempted)
	}
	return nil
}
