package sip

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/sdp/v3"
)

// Direction is an SDP stream direction (RFC 4566 §6, RFC 3264 §5.1), always
// from the point of view of the side that wrote the description.
type Direction uint8

// Stream directions.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

// String returns the SDP attribute name.
func (d Direction) String() string {
	switch d {
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "sendrecv"
}

// Sends reports whether the writer of the description sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the writer of the description receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Reverse gives the direction an answerer uses for an offer of d (RFC 3264 §6.1).
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// Format is one payload format of an audio stream.
type Format struct {
	PayloadType uint8
	Name        string // e.g. "PCMU", "telephone-event"
	ClockRate   int
	Fmtp        string
}

// Media is the audio stream of a parsed session description.
type Media struct {
	// Addr and Port say where the writer receives RTP. A zero Port means the
	// stream is rejected; an unspecified Addr (0.0.0.0) is RFC 2543 hold.
	Addr      netip.Addr
	Port      int
	Formats   []Format // in the writer's order of preference
	Direction Direction
	Ptime     int    // milliseconds, 0 if absent
	Proto     string // "RTP/AVP", "RTP/SAVP", ... (upper case)

	desc  *sdp.SessionDescription
	index int // position of this stream among the m-lines
}

// RTPAddr is where to send RTP for this stream.
func (m *Media) RTPAddr() netip.AddrPort { return netip.AddrPortFrom(m.Addr, uint16(m.Port)) }

// OnHold reports whether the writer does not want to receive media now.
func (m *Media) OnHold() bool {
	return !m.Direction.Receives() || m.Addr.IsUnspecified()
}

// ParseSDP parses a session description and returns its first audio stream
// with a non-zero port.
func ParseSDP(body []byte) (*Media, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedSDP)
	}
	var desc sdp.SessionDescription
	if err := desc.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedSDP, err)
	}
	sessionDir := directionOf(desc.Attributes, SendRecv)
	for i, md := range desc.MediaDescriptions {
		if md.MediaName.Media != "audio" || md.MediaName.Port.Value == 0 {
			continue
		}
		if !isRTPAVP(md.MediaName.Protos) {
			continue
		}
		m := &Media{Port: md.MediaName.Port.Value, Direction: directionOf(md.Attributes, sessionDir), desc: &desc, index: i,
			Proto: strings.ToUpper(strings.Join(md.MediaName.Protos, "/"))}
		ci := md.ConnectionInformation
		if ci == nil {
			ci = desc.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			return nil, fmt.Errorf("%w: audio stream without connection address", ErrMalformedSDP)
		}
		addr, err := netip.ParseAddr(ci.Address.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: connection address %q: %v", ErrMalformedSDP, ci.Address.Address, err)
		}
		m.Addr = addr.Unmap()
		if m.Port < 1 || m.Port > 65535 {
			return nil, fmt.Errorf("%w: port %d", ErrMalformedSDP, m.Port)
		}
		if v, ok := md.Attribute("ptime"); ok {
			m.Ptime, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if m.Formats, err = formatsOf(&desc, md); err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, ErrNoAudio
}

func isRTPAVP(protos []string) bool {
	p := strings.ToUpper(strings.Join(protos, "/"))
	return p == "RTP/AVP" || p == "RTP/AVPF" || p == "RTP/SAVP" || p == "RTP/SAVPF"
}

func directionOf(attrs []sdp.Attribute, def Direction) Direction {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv":
			return SendRecv
		case "sendonly":
			return SendOnly
		case "recvonly":
			return RecvOnly
		case "inactive":
			return Inactive
		}
	}
	return def
}

// formatsOf lists the payload formats of a media line. Static payload types
// (RFC 3551 table 4) need no rtpmap.
func formatsOf(desc *sdp.SessionDescription, md *sdp.MediaDescription) ([]Format, error) {
	out := make([]Format, 0, len(md.MediaName.Formats))
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			return nil, fmt.Errorf("%w: payload type %q", ErrMalformedSDP, f)
		}
		format := Format{PayloadType: uint8(pt)}
		if c, err := desc.GetCodecForPayloadType(uint8(pt)); err == nil && c.Name != "" {
			format.Name, format.ClockRate, format.Fmtp = c.Name, int(c.ClockRate), c.Fmtp
		}
		if format.Name == "" {
			switch pt {
			case 0:
				format.Name, format.ClockRate = "PCMU", 8000
			case 8:
				format.Name, format.ClockRate = "PCMA", 8000
			}
		}
		out = append(out, format)
	}
	return out, nil
}

// Negotiate picks the audio codec for the answer: the first format of the
// offer (the offerer's preference, RFC 3264 §6.1) whose name is in supported,
// and the offer's telephone-event/8000 format if it has one. Payload types are
// the offer's.
func Negotiate(offer *Media, supported []string) (codec Format, event *Format, err error) {
	found := false
	for _, f := range offer.Formats {
		if strings.EqualFold(f.Name, "telephone-event") && f.ClockRate == 8000 && event == nil {
			ev := f
			event = &ev
			continue
		}
		if found || f.ClockRate != 8000 {
			continue
		}
		for _, s := range supported {
			if strings.EqualFold(f.Name, s) {
				codec, found = f, true
				codec.Name = strings.ToUpper(f.Name)
				break
			}
		}
	}
	if !found {
		names := make([]string, 0, len(offer.Formats))
		for _, f := range offer.Formats {
			names = append(names, fmt.Sprintf("%d %s/%d", f.PayloadType, f.Name, f.ClockRate))
		}
		return Format{}, nil, fmt.Errorf("%w: offered [%s], accepted [%s]", ErrNoCommonCodec,
			strings.Join(names, ", "), strings.Join(supported, ", "))
	}
	return codec, event, nil
}

// LocalMedia describes our side of an audio stream: what we write into an
// offer or answer.
type LocalMedia struct {
	Addr      netip.Addr // address written in c= (the public address)
	Port      int
	Formats   []Format // for an answer: exactly the chosen codec (and event)
	Direction Direction
	Ptime     int // 20 if zero
	// Crypto, when set, makes the stream RTP/SAVP with these a=crypto
	// lines (SDES, RFC 4568; see sdes.go).
	Crypto []Crypto
}

var sessionCounter atomic.Uint64

// Origin is the o= line state of one side of a session: the version grows by
// one each time that side's description changes (RFC 3264 §8).
type Origin struct {
	ID      uint64
	Version uint64
	last    string
}

// NewOrigin starts a session origin with a unique id.
func NewOrigin() *Origin {
	id := uint64(time.Now().UnixNano()/1000) + sessionCounter.Add(1)
	return &Origin{ID: id, Version: id}
}

// Marshal writes the description of local. When answering, offer is the
// parsed offer: the answer then has one m-line per offered m-line, the
// others rejected with port 0 (RFC 3264 §6). The origin version is bumped
// only when the media description changed since the last call.
func (o *Origin) Marshal(local LocalMedia, offer *Media) ([]byte, error) {
	ptime := local.Ptime
	if ptime == 0 {
		ptime = 20
	}
	audio := audioDescription(local, ptime)
	media := []*sdp.MediaDescription{audio}
	if offer != nil && offer.desc != nil {
		media = make([]*sdp.MediaDescription, len(offer.desc.MediaDescriptions))
		for i, md := range offer.desc.MediaDescriptions {
			if i == offer.index {
				media[i] = audio
				continue
			}
			media[i] = rejectedDescription(md)
		}
	}
	addrType := "IP4"
	if local.Addr.Is6() {
		addrType = "IP6"
	}
	desc := &sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{Username: "ivr", SessionID: o.ID, NetworkType: "IN", AddressType: addrType,
			UnicastAddress: local.Addr.String()},
		SessionName:           "ivr",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: local.Addr.String()}},
		TimeDescriptions:      []sdp.TimeDescription{{Timing: sdp.Timing{}}},
		MediaDescriptions:     media,
	}
	// Compare the description without the version to decide whether to bump it.
	desc.Origin.SessionVersion = 0
	probe, err := desc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("sip: marshal SDP: %w", err)
	}
	if o.last != "" && o.last != string(probe) {
		o.Version++
	}
	o.last = string(probe)
	desc.Origin.SessionVersion = o.Version
	return desc.Marshal()
}

func audioDescription(local LocalMedia, ptime int) *sdp.MediaDescription {
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: local.Port}, Protos: []string{"RTP", "AVP"}},
	}
	for _, f := range local.Formats {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(f.PayloadType)))
		md.WithValueAttribute("rtpmap", fmt.Sprintf("%d %s/%d", f.PayloadType, f.Name, f.ClockRate))
		if f.Fmtp != "" {
			md.WithValueAttribute("fmtp", fmt.Sprintf("%d %s", f.PayloadType, f.Fmtp))
		}
	}
	md.WithValueAttribute("ptime", strconv.Itoa(ptime))
	if len(local.Crypto) > 0 {
		md.MediaName.Protos = []string{"RTP", "SAVP"}
		for _, c := range local.Crypto {
			md.WithValueAttribute("crypto", c.String())
		}
	}
	md.WithPropertyAttribute(local.Direction.String())
	return md
}

func rejectedDescription(md *sdp.MediaDescription) *sdp.MediaDescription {
	formats := md.MediaName.Formats
	if len(formats) > 1 {
		formats = formats[:1]
	}
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: md.MediaName.Media, Port: sdp.RangedPort{Value: 0}, Protos: md.MediaName.Protos, Formats: formats,
	}}
}
