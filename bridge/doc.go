// Package bridge is the live-agent side of the IVR: the WebRTC media leg to a
// remote agent's browser, agent sign-in, the call queue and the agent pages.
//
// # The media leg
//
// A Leg is one github.com/pion/webrtc/v4 PeerConnection per bridged call,
// with one sendrecv audio track. The server makes the SDP offer with ICE
// gathering complete, so signaling is one offer and one answer (no trickle).
//
// The browser leg speaks the caller's own G.711 law (PCMU, payload type 0, or
// PCMA, payload type 8): the MediaEngine registers that one codec only, so a
// browser can answer with nothing else and the SIP leg's audio passes with a
// table lookup, no transcoding, no resampling. Media is DTLS-SRTP (pion's
// default); ICE uses the configured STUN/TURN servers, and host candidates
// can be limited to given addresses (tests use loopback only). Multicast DNS
// is off: the leg never resolves or announces .local candidates, so it sends
// nothing to a multicast group; a browser that hides its address behind mDNS
// still connects, its checks arriving as peer-reflexive candidates.
//
//	caller RTP ─► Session (jitter buffer, decode) ─► Sink: Leg.WriteSample ─► G.711 ─► SRTP ─► browser
//	browser ─► SRTP ─► Leg track reader ─► JitterBuffer (20 ms target) ─► Leg.Source ─► Session's paced RTP ─► caller
//
// WriteSample runs on the caller's RTP pacing goroutine, so it only encodes
// and hands the packet to the leg's writer goroutine through a small
// buffered channel; when that is full the frame is dropped, never waited for.
// Source is pulled by the same pacing clock; it plays out of a
// media.JitterBuffer with a one-frame target, so in steady state the
// agent's voice waits at most one frame in the bridge.
//
// Done is closed when the PeerConnection fails, closes, or stays
// disconnected for LegConfig.DisconnectedTimeout (default 5 s): the agent's
// browser dropped, and the call must go on without it.
package bridge
