// Command ivr is the support-line IVR: `ivr serve` answers calls, `ivr call`
// places scripted test calls, `ivr asr eval` measures speech recognition.
package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

func main() {
	app := &cli.App{
		Name:  "ivr",
		Usage: "voice IVR for a support line: speech bot, keypad menus, hand-off to human agents",
		Commands: []*cli.Command{
			serveCommand(),
			callCommand(),
			asrCommand(),
			accountsCommand(),
			callsCommand(),
			agentsCommand(),
			sipUsersCommand(),
			botCommand(),
		},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "ivr:", err)
		os.Exit(1)
	}
}
