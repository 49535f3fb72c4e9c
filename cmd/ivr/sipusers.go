package main

import (
	"fmt"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/sip"
	"github.com/supportline/ivr/store"
)

// sipUsersCommand is `ivr sipusers add|list|disable|enable|remove`: the
// softphones that may REGISTER and call in from addresses that are not
// trunks (SIP digest authentication). Only the digest hashes are stored;
// changes apply to `ivr serve` on the same --data-dir at the next request.
func sipUsersCommand() *cli.Command {
	nameCmd := func(name, usage string, action cli.ActionFunc) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, ArgsUsage: "NAME", Flags: []cli.Flag{dataDirFlag()}, Action: action}
	}
	return &cli.Command{
		Name:  "sipusers",
		Usage: "add, list, disable, enable and remove SIP softphone users (digest authentication)",
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "add a SIP user; the password is asked for (no echo), or read from --password-file or standard input",
				ArgsUsage: "NAME",
				Flags: []cli.Flag{dataDirFlag(), jsonFlag(),
					&cli.StringFlag{Name: "realm", Value: sip.DefaultRealm, Usage: "digest realm; must be the --sip-realm of ivr serve", EnvVars: []string{"IVR_SIP_REALM"}},
					&cli.StringFlag{Name: "password-file", Usage: "read the password from the first line of `FILE` (- for standard input)"}},
				Action: sipUsersAdd,
			},
			{
				Name:   "list",
				Usage:  "list the SIP users",
				Flags:  []cli.Flag{dataDirFlag(), jsonFlag()},
				Action: sipUsersList,
			},
			nameCmd("disable", "disable a SIP user: refused like an unknown user", sipUsersSetDisabled(true)),
			nameCmd("enable", "enable a disabled SIP user again", sipUsersSetDisabled(false)),
			nameCmd("remove", "remove a SIP user", sipUsersRemove),
		},
	}
}

func sipUsersAdd(c *cli.Context) error {
	name, err := oneArg(c, "a SIP user NAME")
	if err != nil {
		return err
	}
	password, err := readPassword(c, name)
	if err != nil {
		return fmt.Errorf("sipusers add: %w", err)
	}
	if n := utf8.RuneCountInString(password); n < store.MinSIPPassword {
		return fmt.Errorf("sipusers add: the password has %d characters; at least %d are needed", n, store.MinSIPPassword)
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.AddSIPUser(c.Context, name, c.String("realm"), password)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, u)
	}
	fmt.Fprintf(c.App.Writer, "added SIP user %s (realm %s)\n", u.Name, u.Realm)
	return nil
}

func sipUsersList(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("sipusers list: unexpected arguments %q", c.Args().Slice())
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	defer st.Close()
	us, err := st.ListSIPUsers(c.Context)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, us)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tREALM\tSTATE\tCREATED")
	for _, u := range us {
		state := "active"
		if u.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Realm, state, formatTime(u.CreatedAt))
	}
	return tw.Flush()
}

// sipUsersSetDisabled is the action of `sipusers disable` and `enable`.
func sipUsersSetDisabled(disabled bool) cli.ActionFunc {
	return storeAction("a SIP user NAME", func(c *cli.Context, st *store.SQLite, name string) error {
		if err := st.SetSIPUserDisabled(c.Context, name, disabled); err != nil {
			return err
		}
		verb := "enabled"
		if disabled {
			verb = "disabled"
		}
		fmt.Fprintf(c.App.Writer, "%s SIP user %s\n", verb, name)
		return nil
	})
}

var sipUsersRemove = storeAction("a SIP user NAME", func(c *cli.Context, st *store.SQLite, name string) error {
	if err := st.RemoveSIPUser(c.Context, name); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "removed SIP user %s\n", name)
	return nil
})
