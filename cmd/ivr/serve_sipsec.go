package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"github.com/supportline/ivr/server"
	"github.com/supportline/ivr/sip"
)

// sipSecFlags are the `ivr serve` flags of SIP access control
// (docs/sipsec.md): flag, IVR_* variable and YAML key alike.
func sipSecFlags() []cli.Flag {
	d := server.DefaultSIPSecurity()
	trunks := make([]string, len(d.Trunks))
	for i, p := range d.Trunks {
		trunks[i] = p.String()
	}
	return []cli.Flag{
		altsrc.NewStringFlag(&cli.StringFlag{Name: "sip-trunks", Value: strings.Join(trunks, ","), Usage: "comma-separated addresses and CIDR prefixes whose INVITEs are taken without authentication (\"\" for none); every other source must authenticate as a user of ivr sipusers", EnvVars: []string{"IVR_SIP_TRUNKS"}}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "sip-realm", Value: d.Realm, Usage: "SIP digest realm (users are stored per realm)", EnvVars: []string{"IVR_SIP_REALM"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "sip-nonce-ttl", Value: d.NonceTTL, Usage: "digest nonce lifetime; older nonces get 401 stale=true", EnvVars: []string{"IVR_SIP_NONCE_TTL"}}),
		altsrc.NewFloat64Flag(&cli.Float64Flag{Name: "sip-rate", Value: d.Rate, Usage: "SIP packets a second per non-trunk source; more are dropped and count as failures", EnvVars: []string{"IVR_SIP_RATE"}}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "sip-burst", Value: d.Burst, Usage: "SIP packets a non-trunk source may send at once (token bucket depth)", EnvVars: []string{"IVR_SIP_BURST"}}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "sip-ban-after", Value: d.BanAfter, Usage: "failures (bad credentials, malformed or unauthorised requests, packets over the rate) within --sip-ban-window that ban a source", EnvVars: []string{"IVR_SIP_BAN_AFTER"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "sip-ban-window", Value: d.BanWindow, Usage: "window in which --sip-ban-after failures ban a source", EnvVars: []string{"IVR_SIP_BAN_WINDOW"}}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "sip-ban-time", Value: d.BanTime, Usage: "how long a banned source's packets are dropped unanswered", EnvVars: []string{"IVR_SIP_BAN_TIME"}}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "sip-calls-per-source", Value: d.CallsPerSource, Usage: "concurrent calls one non-trunk source may have (more get 486)", EnvVars: []string{"IVR_SIP_CALLS_PER_SOURCE"}}),
	}
}

// sipSecConfig reads the flags of sipSecFlags into cfg.
func sipSecConfig(c *cli.Context, cfg *server.Config) error {
	trunks, err := sip.ParseTrunks(strings.Split(c.String("sip-trunks"), ","))
	if err != nil {
		return fmt.Errorf("--sip-trunks: %w", err)
	}
	cfg.SIPSec = server.SIPSecurity{
		Trunks: trunks, Realm: c.String("sip-realm"), NonceTTL: c.Duration("sip-nonce-ttl"),
		Rate: c.Float64("sip-rate"), Burst: c.Int("sip-burst"),
		BanAfter: c.Int("sip-ban-after"), BanWindow: c.Duration("sip-ban-window"), BanTime: c.Duration("sip-ban-time"),
		CallsPerSource: c.Int("sip-calls-per-source"),
	}
	return nil
}
