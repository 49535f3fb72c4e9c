package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/supportline/ivr/softphone"
)

// callAuthFlags are the `ivr call` flags of a softphone user: digest
// credentials and REGISTER.
func callAuthFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "auth-user", Usage: "SIP digest user name (default: --from)"},
		&cli.StringFlag{Name: "auth-password-file", Usage: "read the SIP digest password from the first line of `FILE` (- for standard input)"},
		&cli.StringFlag{Name: "auth-password", Usage: "SIP digest password (visible to other local users in the process list: prefer --auth-password-file or the variable)", EnvVars: []string{"IVR_CALL_PASSWORD"}},
		&cli.BoolFlag{Name: "register", Usage: "REGISTER (as --from) at the target's host before calling, and unregister after"},
		&cli.BoolFlag{Name: "register-only", Usage: "REGISTER for --register-expires and exit without calling (--register-expires 0 unregisters)"},
		&cli.DurationFlag{Name: "register-expires", Value: time.Hour, Usage: "registration interval asked for"},
	}
}

// callAuth adds the digest credentials of the flags to cfg.
func callAuth(c *cli.Context, cfg softphone.Config) (softphone.Config, error) {
	cfg.AuthUser = c.String("auth-user")
	cfg.AuthPassword = c.String("auth-password")
	if file := c.String("auth-password-file"); file != "" {
		r := c.App.Reader
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return cfg, fmt.Errorf("--auth-password-file: %w", err)
			}
			defer f.Close()
			r = f
		}
		pw, err := firstLine(r)
		if err != nil {
			return cfg, fmt.Errorf("--auth-password-file: %w", err)
		}
		cfg.AuthPassword = pw
	}
	return cfg, nil
}

// registerFirst registers when --register or --register-only asks for it;
// done is true when nothing more is to be done (--register-only).
func registerFirst(ctx context.Context, c *cli.Context, cfg softphone.Config) (done bool, err error) {
	only := c.Bool("register-only")
	if !only && !c.Bool("register") {
		return false, nil
	}
	expires := c.Duration("register-expires")
	granted, err := softphone.Register(ctx, cfg, expires)
	if err != nil {
		return true, err
	}
	if expires == 0 {
		fmt.Fprintf(c.App.Writer, "unregistered %s\n", cfg.From)
	} else {
		fmt.Fprintf(c.App.Writer, "registered %s for %v\n", cfg.From, granted)
	}
	return only, nil
}

// unregister removes the binding --register made (best effort).
func unregister(c *cli.Context, cfg softphone.Config) {
	if !c.Bool("register") || c.Bool("register-only") {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := softphone.Register(ctx, cfg, 0); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "unregister: %v\n", err)
	}
}
