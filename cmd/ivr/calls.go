package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/store"
)

// callsCommand is `ivr calls list|show`: the call records the bot keeps. It
// works while `ivr serve` runs on the same --data-dir.
func callsCommand() *cli.Command {
	return &cli.Command{
		Name:  "calls",
		Usage: "list and show call records",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list call records, newest first",
				Flags: []cli.Flag{dataDirFlag(), jsonFlag(),
					&cli.IntFlag{Name: "limit", Value: 20, Usage: "at most `N` records (0: all)"}},
				Action: callsList,
			},
			{
				Name:      "show",
				Usage:     "show one call record: transcript, intents, keys, outcome",
				ArgsUsage: "CALL-ID",
				Flags:     []cli.Flag{dataDirFlag(), jsonFlag()},
				Action:    callsShow,
			},
		},
	}
}

func callsList(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("calls list: unexpected arguments %q", c.Args().Slice())
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	recs, err := st.Calls(c.Context, c.Int("limit"))
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, recs)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tLENGTH\tFROM\tACCOUNT\tVERIFIED\tOUTCOME\tHANDOVER\tCALL-ID")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%t\t%s\t%s\t%s\n", formatTime(r.Start), callLength(&r), orDash(r.From),
			orDash(r.AccountNumber), r.Verified, orDash(r.Outcome), orDash(handoverReason(r.Handover)), r.ID)
	}
	return tw.Flush()
}

var callsShow = storeAction("a CALL-ID", func(c *cli.Context, st *store.SQLite, id string) error {
	r, err := st.Call(c.Context, id)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, r)
	}
	return printCall(c.App.Writer, r)
})

// printCall writes a call record for a person.
func printCall(w io.Writer, r *store.CallRecord) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "call\t%s\n", r.ID)
	fmt.Fprintf(tw, "from → to\t%s → %s\n", orDash(r.From), orDash(r.To))
	fmt.Fprintf(tw, "start\t%s (%s)\n", formatTime(r.Start), callLength(r))
	fmt.Fprintf(tw, "account\t%s (verified: %t)\n", orDash(r.AccountNumber), r.Verified)
	fmt.Fprintf(tw, "intents\t%s\n", orDash(strings.Join(r.Intents, ", ")))
	fmt.Fprintf(tw, "keys\t%s\n", orDash(strings.Join(r.DTMF, " ")))
	fmt.Fprintf(tw, "outcome\t%s\n", orDash(r.Outcome))
	if h := r.Handover; h != nil {
		fmt.Fprintf(tw, "handover\t%s at %s %s\n", h.Reason, h.At.Round(time.Millisecond), h.Detail)
	}
	if len(r.Payments) > 0 {
		fmt.Fprintf(tw, "payments\t%v\n", r.Payments)
	}
	if r.Recording != "" {
		fmt.Fprintf(tw, "recording\t%s (%s)\n", r.Recording, r.RecordingLength.Round(time.Second))
		printPaused(tw, r.RecordingPaused)
	}
	if w := r.WrapUp; w != nil {
		fmt.Fprintf(tw, "wrap-up\t%s by %s at %s\n", w.Disposition, w.Agent, formatTime(w.At))
		if w.Notes != "" {
			fmt.Fprintf(tw, "notes\t%s\n", strings.Join(strings.Fields(w.Notes), " "))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range r.Transcript {
		extra := ""
		if t.Who == "caller" {
			extra = fmt.Sprintf("  [%s", orDash(t.Input))
			if t.Input == "speech" {
				extra += fmt.Sprintf(" %.2f", t.Confidence)
			}
			if t.Intent != "" {
				extra += " → " + t.Intent
			}
			extra += "]"
		}
		fmt.Fprintf(w, "%8s  %-6s  %s%s\n", t.At.Round(100*time.Millisecond), t.Who, t.Text, extra)
	}
	return nil
}

func callLength(r *store.CallRecord) string {
	if r.End.IsZero() || r.Start.IsZero() {
		return "in progress"
	}
	return r.End.Sub(r.Start).Round(time.Second).String()
}

func handoverReason(h *store.Handover) string {
	if h == nil {
		return ""
	}
	return h.Reason
}

// printPaused lists the silent (PCI) windows of a recording.
func printPaused(w io.Writer, paused []store.PausedWindow) {
	if len(paused) == 0 {
		return
	}
	var total time.Duration
	parts := make([]string, len(paused))
	for i, p := range paused {
		total += p.End - p.Start
		parts[i] = fmt.Sprintf("%s–%s", p.Start.Round(100*time.Millisecond), p.End.Round(100*time.Millisecond))
	}
	fmt.Fprintf(w, "paused\t%s in %d windows: %s (PIN and card entry)\n", total.Round(100*time.Millisecond),
		len(paused), strings.Join(parts, ", "))
}
