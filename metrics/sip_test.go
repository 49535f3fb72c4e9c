package metrics

import (
	"strings"
	"testing"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
)

// fakeSIP is a SIP server's access-control counters.
type fakeSIP sip.SecurityStats

func (f fakeSIP) SIPStats() sip.SecurityStats { return sip.SecurityStats(f) }

// TestSIPSecurityAndSRTP: the guard's counters and the calls' SRTP drops
// are read at each scrape, every reason is reported (0 until it happens),
// and an unknown reason never becomes a label.
func TestSIPSecurityAndSRTP(t *testing.T) {
	m := New()
	st := sip.SecurityStats{GuardStats: sip.GuardStats{Requests: 500, BansActive: 1, BansTotal: 2, AuthOK: 7,
		AuthFailures: 3, Sources: 4, Rejected: map[string]uint64{sip.ReasonBanned: 120, sip.ReasonAuthRequired: 9,
			"+15550100": 1}}, Registrations: 2}
	calls := fakeCalls{{answered: true}}
	calls[0].st = media.Stats{SRTPAuthFailures: 20, SRTPReplays: 5}
	m.Watch(Sources{Calls: calls, SIP: fakeSIP(st)})
	body := scrapeBody(t, m)
	for _, line := range []string{
		`ivr_sip_packets_inspected_total 500`,
		`ivr_sip_rejected_total{reason="banned"} 120`,
		`ivr_sip_rejected_total{reason="auth_required"} 9`,
		`ivr_sip_rejected_total{reason="rate_limited"} 0`,
		`ivr_sip_bans_total 2`,
		`ivr_sip_bans_active 1`,
		`ivr_sip_auth_total{result="ok"} 7`,
		`ivr_sip_auth_total{result="failed"} 3`,
		`ivr_sip_registrations 2`,
		`ivr_srtp_dropped_packets_total{reason="auth"} 20`,
		`ivr_srtp_dropped_packets_total{reason="replay"} 5`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("want %q in\n%s", line, grepLines(body, "ivr_s"))
		}
	}
	if strings.Contains(body, "15550100") {
		t.Error("an unknown reason reached a label")
	}
}
