package sip

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// refusal is a response to a request that fails the checks every request
// gets before its method's handler runs.
type refusal struct {
	code    int
	reason  string
	warning string
	hdrs    []gosip.Header
}

// singleHeaders may appear once in a request (RFC 3261 §7.3.1, §20): two
// Call-IDs or Content-Lengths leave no right answer (RFC 4475 §3.3.8, §3.3.9).
var singleHeaders = []string{"Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length"}

// checkRequest applies the checks of RFC 3261 §8.2 that do not depend on
// the method, in its order: version, malformed fields, URI scheme, Require.
// Each was missing before the RFC 4475 torture test (docs/fuzz.md).
func checkRequest(req *gosip.Request) *refusal {
	if req.SipVersion != "SIP/2.0" {
		return &refusal{code: 505, reason: "Version Not Supported", warning: "only SIP/2.0"}
	}
	for _, name := range singleHeaders {
		if n := len(req.GetHeaders(name)); n > 1 {
			return &refusal{code: 400, reason: "Bad Request", warning: fmt.Sprintf("%d %s header fields", n, name)}
		}
	}
	// sipgo upper-cases the request's method but not CSeq's: compare
	// without case (methods are case-sensitive, RFC 3261 §7.1).
	if cs := req.CSeq(); cs != nil && !strings.EqualFold(string(cs.MethodName), string(req.Method)) {
		return &refusal{code: 400, reason: "Bad Request", warning: "CSeq method " + string(cs.MethodName) + " does not match " + string(req.Method)}
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return &refusal{code: 416, reason: "Unsupported URI Scheme", warning: "Request-URI scheme " + req.Recipient.Scheme}
	}
	if req.Recipient.Headers != nil && req.Recipient.Headers.Length() > 0 {
		return &refusal{code: 400, reason: "Bad Request", warning: "header fields in the Request-URI"}
	}
	if h := req.GetHeader("Require"); h != nil && strings.TrimSpace(h.Value()) != "" && req.Method != gosip.INVITE {
		// INVITE's Require is answered by checkInvite, as before.
		return &refusal{code: 420, reason: "Bad Extension", warning: "unsupported: " + h.Value(),
			hdrs: []gosip.Header{gosip.NewHeader("Unsupported", h.Value())}}
	}
	if req.Method == gosip.INVITE && !acceptsSDP(req) {
		return &refusal{code: 406, reason: "Not Acceptable", warning: "our answer is application/sdp",
			hdrs: []gosip.Header{gosip.NewHeader("Accept", "application/sdp")}}
	}
	return nil
}

// acceptsSDP reports whether an INVITE's Accept (if any) allows an SDP
// answer (RFC 3261 §20.1; RFC 4475 §3.3.15).
func acceptsSDP(req *gosip.Request) bool {
	hs := req.GetHeaders("Accept")
	if len(hs) == 0 {
		return true
	}
	for _, h := range hs {
		for _, v := range strings.Split(h.Value(), ",") {
			mt, _, _ := strings.Cut(v, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/sdp", "application/*", "*/*", "":
				return true
			}
		}
	}
	return false
}

// checked runs checkRequest before h. A refused request is answered here
// (an ACK, which takes no response, is dropped).
func (s *Server) checked(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *gosip.Request, tx gosip.ServerTransaction) {
		r := checkRequest(req)
		if r == nil {
			h(req, tx)
			return
		}
		s.log.Info("request refused", "method", req.Method.String(), "call_id", callID(req), "from", req.Source(),
			"status", r.code, "reason", r.warning)
		if req.Method == gosip.ACK {
			return
		}
		res := gosip.NewResponseFromRequest(req, r.code, r.reason, nil)
		res.SipVersion = "SIP/2.0" // not the request's, when that is what is wrong
		res.AppendHeader(gosip.NewHeader("Warning", fmt.Sprintf("399 ivr %q", r.warning)))
		for _, hdr := range r.hdrs {
			res.AppendHeader(hdr)
		}
		if err := tx.Respond(res); err != nil {
			s.log.Debug("sip respond failed", "status", r.code, "error", err)
		}
	}
}
