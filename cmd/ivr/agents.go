package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/supportline/ivr/store"
)

// agentsCommand is `ivr agents add|list|disable|enable|remove`: the people who
// take calls in the browser. It works while `ivr serve` runs on the same
// --data-dir; a disabled or removed agent's sessions end within seconds. The
// password and its hash are never printed.
func agentsCommand() *cli.Command {
	nameCmd := func(name, usage string, action cli.ActionFunc) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, ArgsUsage: "NAME", Flags: []cli.Flag{dataDirFlag()}, Action: action}
	}
	return &cli.Command{
		Name:  "agents",
		Usage: "add, list, disable, enable and remove agent accounts",
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "add an agent; the password is asked for (no echo), or read from --password-file or standard input",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{dataDirFlag(), jsonFlag(),
					&cli.StringFlag{Name: "password-file", Usage: "read the password from the first line of `FILE` (- for standard input)"}},
				Action: agentsAdd,
			},
			{
				Name:   "list",
				Usage:  "list the agents",
				Flags:  []cli.Flag{dataDirFlag(), jsonFlag()},
				Action: agentsList,
			},
			nameCmd("disable", "disable an agent: no login, and their sessions end", agentsSetDisabled(true)),
			nameCmd("enable", "enable a disabled agent again", agentsSetDisabled(false)),
			nameCmd("remove", "remove an agent (their wrap-ups keep the name)", agentsRemove),
		},
	}
}

func agentsAdd(c *cli.Context) error {
	name, err := oneArg(c, "an agent NAME")
	if err != nil {
		return err
	}
	password, err := readPassword(c, name)
	if err != nil {
		return fmt.Errorf("agents add: %w", err)
	}
	if n := utf8.RuneCountInString(password); n < store.MinAgentPassword {
		return fmt.Errorf("agents add: the password has %d characters; at least %d are needed", n, store.MinAgentPassword)
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := st.AddAgent(c.Context, name, password)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, a)
	}
	fmt.Fprintf(c.App.Writer, "added agent %s\n", a.Name)
	return nil
}

// readPassword takes the password from --password-file, from the terminal
// (asked twice, without echo) or from the first line of a standard input that
// is not a terminal.
func readPassword(c *cli.Context, name string) (string, error) {
	if file := c.String("password-file"); file != "" && file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		defer f.Close()
		return firstLine(f)
	}
	if f, ok := c.App.Reader.(*os.File); ok && term.IsTerminal(int(f.Fd())) && c.String("password-file") == "" {
		return askPassword(c.App.ErrWriter, int(f.Fd()), name)
	}
	return firstLine(c.App.Reader)
}

// askPassword reads the password twice from the terminal fd without echo.
func askPassword(w io.Writer, fd int, name string) (string, error) {
	fmt.Fprintf(w, "Password for %s: ", name)
	first, err := term.ReadPassword(fd)
	fmt.Fprintln(w)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(w, "Repeat the password: ")
	second, err := term.ReadPassword(fd)
	fmt.Fprintln(w)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(first) != string(second) {
		return "", errors.New("the passwords differ")
	}
	return string(first), nil
}

// firstLine returns r's first line without its line ending (spaces are part
// of a password). An empty input is an error.
func firstLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password given (on standard input, --password-file FILE, or at the prompt)")
	}
	return line, nil
}

func agentsList(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("agents list: unexpected arguments %q", c.Args().Slice())
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	as, err := st.ListAgents(c.Context)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, as)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tCREATED")
	for _, a := range as {
		state := "active"
		if a.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, state, formatTime(a.CreatedAt))
	}
	return tw.Flush()
}

// agentsSetDisabled is the action of `agents disable` and `agents enable`.
func agentsSetDisabled(disabled bool) cli.ActionFunc {
	return storeAction("an agent NAME", func(c *cli.Context, st *store.SQLite, name string) error {
		if err := st.SetAgentDisabled(c.Context, name, disabled); err != nil {
			return err
		}
		verb := "enabled"
		if disabled {
			verb = "disabled"
		}
		fmt.Fprintf(c.App.Writer, "%s agent %s\n", verb, name)
		return nil
	})
}

var agentsRemove = storeAction("an agent NAME", func(c *cli.Context, st *store.SQLite, name string) error {
	if err := st.RemoveAgent(c.Context, name); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "removed agent %s\n", name)
	return nil
})
