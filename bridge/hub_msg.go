package bridge

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/supportline/ivr/store"
)

// Message types between the agent page and the hub, over the WebSocket.
// From the browser: available, away, accept, decline, answer (SDP), hold,
// unhold, hangup, wrapup, callback_done. From the hub: hello, state, offer,
// offer_cancelled, sdp_offer, connected, dtmf, call_ended, wrapup_saved,
// queue, callbacks, error.
const (
	MsgAvailable      = "available"
	MsgAway           = "away"
	MsgAccept         = "accept"
	MsgDecline        = "decline"
	MsgAnswer         = "answer"
	MsgHold           = "hold"
	MsgUnhold         = "unhold"
	MsgHangup         = "hangup"
	MsgWrapUp         = "wrapup"
	MsgCallbackDone   = "callback_done"
	MsgHello          = "hello"
	MsgState          = "state"
	MsgOffer          = "offer"
	MsgOfferCancelled = "offer_cancelled"
	MsgSDPOffer       = "sdp_offer"
	MsgConnected      = "connected"
	MsgDTMF           = "dtmf"
	MsgCallEnded      = "call_ended"
	MsgWrapUpSaved    = "wrapup_saved"
	MsgQueue          = "queue"
	MsgCallbacks      = "callbacks"
	MsgError          = "error"
)

// Msg is one WebSocket message, either way; Type says which fields count.
type Msg struct {
	Type        string             `json:"type"`
	CallID      string             `json:"call_id,omitempty"`
	SDP         string             `json:"sdp,omitempty"`
	State       string             `json:"state,omitempty"`
	Agent       string             `json:"agent,omitempty"`
	Reason      string             `json:"reason,omitempty"`
	Message     string             `json:"message,omitempty"`
	Digit       string             `json:"digit,omitempty"`
	By          string             `json:"by,omitempty"`
	Disposition string             `json:"disposition,omitempty"`
	Notes       string             `json:"notes,omitempty"`
	ID          int64              `json:"id,omitempty"`
	TimeoutMS   int64              `json:"timeout_ms,omitempty"`
	Card        *HandoffCard       `json:"card,omitempty"`
	Queue       *QueueSnapshot     `json:"queue,omitempty"`
	Callbacks   []store.Callback   `json:"callbacks,omitempty"`
	ICEServers  []webrtc.ICEServer `json:"ice_servers,omitempty"`
}

// errBadMsg is a message from a browser that cannot be used.
var errBadMsg = errors.New("bad message")

// msgLimit is the largest message a browser may send (an SDP answer is a
// few kB; notes are capped by the store at 4000 characters).
const msgLimit = 64 << 10

// Dispositions an agent may give a call at wrap-up.
var dispositions = map[string]bool{
	"resolved": true, "payment_taken": true, "callback_needed": true, "escalated": true,
	"wrong_number": true, "other": true,
}

// parseMsg decodes and checks one message from a browser.
func parseMsg(data []byte) (Msg, error) {
	var m Msg
	if len(data) > msgLimit {
		return m, fmt.Errorf("%w: larger than %d bytes", errBadMsg, msgLimit)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%w: not JSON: %v", errBadMsg, err)
	}
	switch m.Type {
	case MsgAvailable, MsgAway:
	case MsgAccept, MsgDecline, MsgHold, MsgUnhold, MsgHangup:
		if m.CallID == "" {
			return m, fmt.Errorf("%w: %s needs call_id", errBadMsg, m.Type)
		}
	case MsgAnswer:
		if m.CallID == "" || m.SDP == "" {
			return m, fmt.Errorf("%w: answer needs call_id and sdp", errBadMsg)
		}
	case MsgWrapUp:
		if m.CallID == "" || !dispositions[m.Disposition] {
			return m, fmt.Errorf("%w: wrapup needs call_id and a disposition", errBadMsg)
		}
	case MsgCallbackDone:
		if m.ID <= 0 {
			return m, fmt.Errorf("%w: callback_done needs id", errBadMsg)
		}
	case "":
		return m, fmt.Errorf("%w: no type", errBadMsg)
	default:
		return m, fmt.Errorf("%w: unknown type %q", errBadMsg, m.Type)
	}
	return m, nil
}
