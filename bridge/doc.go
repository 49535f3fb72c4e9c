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
// (about 1 µs) and hands the packet to the leg's writer goroutine through a
// small buffered channel (8 frames); when that is full the frame is dropped,
// never waited for, and its RTP sequence number and media time are skipped
// so the browser sees a loss, not compressed time. The writer's pion path
// (packetizer, RTCP reports, SRTP, UDP) costs about 16 µs a frame.
//
// Source is pulled by the same pacing clock and plays out of a
// media.JitterBuffer with a one-frame (20 ms) target: a packet plays at the
// caller's first tick after it arrives, so the agent's voice waits 0–20 ms
// (the phase between the browser's clock and the caller's) plus about a
// millisecond of transport on loopback. When arrivals straddle the tick the
// buffer underruns once and then holds one frame more; it drops back when
// it has held more than its target for a second, and at once when it holds
// more than four frames. Before the agent sends anything, and when the
// agent goes quiet, Source gives silence (an attenuated repeat for up to
// three lost frames), never an end, until Close.
//
// A call coordinator uses a leg like this (errors elided):
//
//	leg, _ := bridge.NewLeg(bridge.LegConfig{Codec: codec.Name, ICEServers: ice, HostIPs: hosts, Log: log})
//	defer leg.Close()
//	offer, _ := leg.Offer(ctx)    // to the agent's browser (WebSocket)
//	_ = leg.Answer(answer)        // from the browser
//	<-leg.Connected()             // or a timeout: the agent could not be reached
//	session.SetSource(leg.Source()) // the agent's voice on the caller's one RTP stream
//	sink.Set(leg)                 // the caller's decoded frames (the Session's Sink stage) to the agent
//	select {
//	case <-leg.Done():            // the browser dropped: tell the caller, back to the queue
//	case <-hangup:
//	}
//
// Done is closed when the PeerConnection fails, closes, or stays
// disconnected for LegConfig.DisconnectedTimeout (default 5 s): the agent's
// browser dropped, and the call must go on without it. A browser that
// closes its PeerConnection is noticed within milliseconds (DTLS
// close_notify); one that vanishes, after the timeout.
//
// With HostIPs all on loopback, remote candidates are kept to loopback too,
// so such a leg sends nothing anywhere else. pion's ICE never gathers ::1
// (nor any ::/96 or fec0::/10 address): use 127.0.0.1 for loopback.
//
// # NAT traversal
//
// Agents work from home, behind NAT. The leg offers its host candidates and,
// with LegConfig.ICEServers, server-reflexive candidates from STUN and relay
// candidates from TURN. STUN is enough when either side has a public address
// or the NATs are endpoint-independent; otherwise run a TURN server, e.g.
// coturn (Debian package coturn), with time-limited credentials from a
// shared secret (TURNCredentials makes them), so no TURN password is stored
// per agent or handed out for good:
//
//	# /etc/turnserver.conf
//	listening-port=3478
//	tls-listening-port=5349
//	fingerprint
//	use-auth-secret
//	static-auth-secret=CHANGE-ME   # the same secret in ivr's config
//	realm=support.example.com
//	external-ip=203.0.113.10        # the server's public address, if it is itself behind NAT
//	min-port=49160
//	max-port=49200
//	no-multicast-peers
//	denied-peer-ip=10.0.0.0-10.255.255.255   # keep TURN from relaying into the LAN
//
// and give the same server to both ends, with credentials from
// TURNCredentials(secret, agentName, time.Now().Add(12*time.Hour)): the leg
// ([]webrtc.ICEServer{{URLs: []string{"stun:turn.example.com:3478",
// "turn:turn.example.com:3478?transport=udp"}, Username: user,
// Credential: password}}) and the agent page's RTCPeerConnection
// configuration. (A static user=name:password with lt-cred-mech works too.) Open UDP 3478 and the relay port range on the TURN host,
// and, on the ivr host, the range given by LegConfig.PortMin/PortMax.
// LegConfig.HostIPs keeps host candidates to the addresses the agents can
// reach (and tests to 127.0.0.1).
package bridge
