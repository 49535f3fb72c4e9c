package server

import (
	"strings"
	"testing"
	"time"
)

func TestSIPSecurityValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*SIPSecurity)
		wantErr string
	}{
		{"defaults", func(*SIPSecurity) {}, ""},
		{"no trunks", func(c *SIPSecurity) { c.Trunks = nil }, ""},
		{"zero rate", func(c *SIPSecurity) { c.Rate = 0 }, "sip rate"},
		{"zero burst", func(c *SIPSecurity) { c.Burst = 0 }, "sip rate"},
		{"zero ban after", func(c *SIPSecurity) { c.BanAfter = 0 }, "sip ban"},
		{"negative ban time", func(c *SIPSecurity) { c.BanTime = -time.Second }, "sip ban"},
		{"zero calls per source", func(c *SIPSecurity) { c.CallsPerSource = 0 }, "calls per source"},
		{"short nonce ttl", func(c *SIPSecurity) { c.NonceTTL = time.Second }, "nonce ttl"},
		{"no realm", func(c *SIPSecurity) { c.Realm = "" }, "realm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Defaults()
			tt.change(&cfg.SIPSec)
			err := cfg.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if d := Defaults().SIPSec; len(d.Trunks) != 2 || d.Trunks[0].String() != "127.0.0.0/8" || d.Trunks[1].String() != "::1/128" {
		t.Errorf("default trunks %v", d.Trunks)
	}
}
