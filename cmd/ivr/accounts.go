package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/server"
	"github.com/supportline/ivr/store"
)

// accountsCommand is `ivr accounts add|list|show|unlock`: the operator's view
// of the account store. It works while `ivr serve` runs on the same
// --data-dir. The PIN and its hash are never printed.
func accountsCommand() *cli.Command {
	return &cli.Command{
		Name:  "accounts",
		Usage: "add, list, show and unlock customer accounts",
		Subcommands: []*cli.Command{
			{
				Name:  "add",
				Usage: "add an account",
				Description: "e.g. ivr accounts add --phone +15550100 --account 10001 --pin 2468 --balance 321.09 \\\n" +
					"       --next-amount 54.10 --next-due 2026-12-05 --card-last4 4242",
				Flags: []cli.Flag{
					dataDirFlag(), jsonFlag(),
					&cli.StringFlag{Name: "account", Required: true, Usage: "account `NUMBER` (4–16 digits)"},
					&cli.StringSliceFlag{Name: "phone", Usage: "caller-ID `PHONE` in E.164 (+15550100); repeat for several, or none"},
					&cli.StringFlag{Name: "pin", Usage: "`PIN` (4–8 digits); better --pin-file, which keeps it out of the shell history"},
					&cli.StringFlag{Name: "pin-file", Usage: "read the PIN from the first line of `FILE` (- for standard input)"},
					&cli.StringFlag{Name: "balance", Required: true, Usage: "balance `AMOUNT`, e.g. 321.09"},
					&cli.StringFlag{Name: "currency", Value: "USD", Usage: "ISO 4217 `CODE`"},
					&cli.StringFlag{Name: "next-amount", Value: "0", Usage: "next installment `AMOUNT`"},
					&cli.StringFlag{Name: "next-due", Usage: "next installment due `DATE` (YYYY-MM-DD); needed with --next-amount"},
					&cli.StringFlag{Name: "card-last4", Required: true, Usage: "last four `DIGITS` of the card on file"},
				},
				Action: accountsAdd,
			},
			{
				Name:   "list",
				Usage:  "list the accounts",
				Flags:  []cli.Flag{dataDirFlag(), jsonFlag()},
				Action: accountsList,
			},
			{
				Name:      "show",
				Usage:     "show one account and its recent payments",
				ArgsUsage: "NUMBER",
				Flags: []cli.Flag{dataDirFlag(), jsonFlag(),
					&cli.IntFlag{Name: "payments", Value: 10, Usage: "show the last `N` payments"}},
				Action: accountsShow,
			},
			{
				Name:      "unlock",
				Usage:     "clear the wrong-PIN lock of an account",
				ArgsUsage: "NUMBER",
				Flags:     []cli.Flag{dataDirFlag()},
				Action:    accountsUnlock,
			},
		},
	}
}

func dataDirFlag() cli.Flag {
	return &cli.StringFlag{Name: "data-dir", Value: server.Defaults().DataDir,
		Usage: "data directory of `ivr serve` (the database is DIR/" + store.FileName + ")", EnvVars: []string{"IVR_DATA_DIR"}}
}

func jsonFlag() cli.Flag { return &cli.BoolFlag{Name: "json", Usage: "print JSON"} }

// openStore opens the store in --data-dir; store messages go to stderr at
// warning level and above.
func openStore(c *cli.Context) (*store.SQLite, error) {
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return store.Open(c.Context, c.String("data-dir"), store.WithLogger(log))
}

// storeAction makes the action of a command that takes one argument (what
// names it in the error when it is missing) and works on the store: fn
// runs with the argument and the open store, which is closed after.
func storeAction(what string, fn func(c *cli.Context, st *store.SQLite, arg string) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		arg, err := oneArg(c, what)
		if err != nil {
			return err
		}
		st, err := openStore(c)
		if err != nil {
			return err
		}
		defer st.Close()
		return fn(c, st, arg)
	}
}

// oneArg returns the single positional argument. Flags written after it
// (`ivr calls show ID --json`, which urfave/cli leaves as arguments) are
// parsed and applied to c.
func oneArg(c *cli.Context, what string) (string, error) {
	args := c.Args().Slice()
	if len(args) == 0 {
		return "", fmt.Errorf("%s: want %s", c.Command.FullName(), what)
	}
	set := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range c.Command.Flags {
		if err := f.Apply(set); err != nil {
			return "", err
		}
	}
	if err := set.Parse(args[1:]); err != nil {
		return "", fmt.Errorf("%s: %w", c.Command.FullName(), err)
	}
	if set.NArg() > 0 {
		return "", fmt.Errorf("%s: want one %s, got also %q", c.Command.FullName(), what, set.Args())
	}
	var err error
	set.Visit(func(f *flag.Flag) { err = errors.Join(err, c.Set(f.Name, f.Value.String())) })
	return args[0], err
}

// readPIN takes the PIN from exactly one of --pin and --pin-file.
func readPIN(c *cli.Context) (string, error) {
	pin, file := c.String("pin"), c.String("pin-file")
	switch {
	case pin != "" && file != "":
		return "", errors.New("give --pin or --pin-file, not both")
	case pin != "":
		return pin, nil
	case file == "":
		return "", errors.New("a PIN is needed: --pin-file FILE (or --pin)")
	}
	var r io.Reader = c.App.Reader
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("--pin-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("--pin-file: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// newAccount builds the account from the add flags.
func newAccount(c *cli.Context) (store.NewAccount, error) {
	pin, err := readPIN(c)
	if err != nil {
		return store.NewAccount{}, err
	}
	cur := strings.ToUpper(c.String("currency"))
	balance, err := store.ParseMoney(c.String("balance"), cur)
	if err != nil {
		return store.NewAccount{}, fmt.Errorf("--balance: %w", err)
	}
	next, err := store.ParseMoney(c.String("next-amount"), cur)
	if err != nil {
		return store.NewAccount{}, fmt.Errorf("--next-amount: %w", err)
	}
	var due time.Time
	if s := c.String("next-due"); s != "" {
		if due, err = time.Parse(time.DateOnly, s); err != nil {
			return store.NewAccount{}, fmt.Errorf("--next-due %q: want YYYY-MM-DD", s)
		}
	}
	return store.NewAccount{Number: c.String("account"), Phones: c.StringSlice("phone"), PIN: pin,
		Balance: balance, NextAmount: next, NextDue: due, CardLast4: c.String("card-last4")}, nil
}

func accountsAdd(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("accounts add: unexpected arguments %q (all values are flags)", c.Args().Slice())
	}
	na, err := newAccount(c)
	if err != nil {
		return fmt.Errorf("accounts add: %w", err)
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := st.AddAccount(c.Context, na)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, a)
	}
	fmt.Fprintf(c.App.Writer, "added account %s\n", a.Number)
	return printAccount(c.App.Writer, a, nil)
}

func accountsList(c *cli.Context) error {
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	as, err := st.ListAccounts(c.Context)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		if as == nil {
			as = []store.Account{}
		}
		return writeJSON(c.App.Writer, as)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tPHONES\tBALANCE\tNEXT\tDUE\tCARD\tSTATE")
	now := time.Now()
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Number, orDash(strings.Join(a.Phones, ",")), a.Balance,
			a.NextAmount, orDash(formatDay(a.NextDue)), "****"+a.CardLast4, lockState(&a, now))
	}
	return tw.Flush()
}

// accountDetail is `accounts show --json`.
type accountDetail struct {
	Account  *store.Account  `json:"account"`
	Payments []store.Payment `json:"payments"`
}

var accountsShow = storeAction("an account NUMBER", func(c *cli.Context, st *store.SQLite, number string) error {
	a, err := st.AccountByNumber(c.Context, number)
	if err != nil {
		return err
	}
	ps, err := st.Payments(c.Context, a.ID, c.Int("payments"))
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, accountDetail{Account: a, Payments: ps})
	}
	return printAccount(c.App.Writer, a, ps)
})

var accountsUnlock = storeAction("an account NUMBER", func(c *cli.Context, st *store.SQLite, number string) error {
	if err := st.Unlock(c.Context, number); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "unlocked account %s\n", number)
	return nil
})

// printAccount writes an account (and its payments) for a person.
func printAccount(w io.Writer, a *store.Account, ps []store.Payment) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "account\t%s\n", a.Number)
	fmt.Fprintf(tw, "phones\t%s\n", orDash(strings.Join(a.Phones, ", ")))
	fmt.Fprintf(tw, "balance\t%s\n", a.Balance)
	fmt.Fprintf(tw, "next payment\t%s due %s\n", a.NextAmount, orDash(formatDay(a.NextDue)))
	fmt.Fprintf(tw, "card\t****%s\n", a.CardLast4)
	fmt.Fprintf(tw, "state\t%s (wrong PINs: %d)\n", lockState(a, time.Now()), a.FailedPINs)
	fmt.Fprintf(tw, "created\t%s\n", formatTime(a.CreatedAt))
	if len(ps) > 0 {
		fmt.Fprintln(tw, "payments:")
		for _, p := range ps {
			fmt.Fprintf(tw, "  %s\t%s\t%s\tcard ****%s\t%s\n", formatTime(p.CreatedAt), p.Amount, p.Confirmation, p.CardLast4, p.Status)
		}
	}
	return tw.Flush()
}

func lockState(a *store.Account, now time.Time) string {
	if a.Locked(now) {
		return "locked until " + formatTime(a.LockedUntil)
	}
	return "open"
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func formatDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
