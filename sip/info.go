package sip

import (
	"strings"

	gosip "github.com/emiago/sipgo/sip"
)

// readInfo answers an in-dialog INFO; a DTMF body becomes a key press of
// the call (InfoDTMF).
func (c *InboundCall) readInfo(req *gosip.Request, tx gosip.ServerTransaction) {
	if err := c.dialog.ReadRequest(req, tx); err != nil {
		c.srv.respond(req, tx, 500, "Server Internal Error", nil, gosip.NewHeader("Retry-After", "1"))
		return
	}
	if d, ok := parseInfoDTMF(req); ok {
		select {
		case c.dtmf <- d:
		default:
			c.log.Warn("INFO DTMF dropped: reader is behind")
		}
	}
	c.srv.respond(req, tx, 200, "OK", nil)
}

// parseInfoDTMF reads a digit from an INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160") or application/dtmf ("5").
func parseInfoDTMF(req *gosip.Request) (byte, bool) {
	ct := req.ContentType()
	if ct == nil {
		return 0, false
	}
	body := strings.TrimSpace(string(req.Body()))
	switch strings.ToLower(strings.TrimSpace(strings.Split(ct.Value(), ";")[0])) {
	case "application/dtmf-relay":
		for _, line := range strings.Split(body, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				body = strings.TrimSpace(v)
				break
			}
		}
	case "application/dtmf":
	default:
		return 0, false
	}
	if len(body) != 1 || !strings.ContainsRune("0123456789*#ABCDabcd", rune(body[0])) {
		return 0, false
	}
	return strings.ToUpper(body)[0], true
}
