package softphone

import (
	"fmt"
	"strings"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
)

// transportOf is the SIP transport a call to target uses: the configured
// one, or "tls" when the URI says so (sips: or ;transport=tls) and no
// transport was configured.
func transportOf(configured, target string) string {
	t := strings.ToLower(configured)
	if t != "" {
		return t
	}
	lower := strings.ToLower(target)
	if strings.HasPrefix(lower, "sips:") || strings.Contains(lower, ";transport=tls") {
		return "tls"
	}
	return "udp"
}

// phoneConfig is the signalling configuration of the run's Phone.
func phoneConfig(cfg Config) (sip.PhoneConfig, error) {
	pc := sip.PhoneConfig{Transport: cfg.Transport, Local: cfg.Local, From: cfg.From, Log: cfg.Log,
		AuthUser: cfg.AuthUser, AuthPassword: cfg.AuthPassword}
	if cfg.Transport != "tls" {
		if cfg.TLSCA != "" {
			return pc, fmt.Errorf("%w: a CA file needs the tls transport", ErrConfig)
		}
		return pc, nil
	}
	var err error
	if pc.TLS, err = sip.ClientTLS(cfg.TLSCA); err != nil {
		return pc, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return pc, nil
}

// offerSRTP makes the a=crypto lines of the call's offer: fresh keys per
// call, none without Config.SRTP.
func (c *callRun) offerSRTP() error {
	if !c.cfg.SRTP {
		return nil
	}
	var err error
	c.offered, err = sip.NewCryptoOffer()
	return err
}

// answerSRTP reads the SDES answer and makes the call's SRTP transform
// (nil interface for plain RTP). An offer of SRTP answered without it is
// refused: that would send the audio in the clear.
func (c *callRun) answerSRTP(answer *sip.Media) (media.PacketCrypto, error) {
	if len(c.offered) == 0 {
		if answer.Secure() {
			return nil, fmt.Errorf("%w: RTP/SAVP answer to an RTP/AVP offer", ErrBadAnswer)
		}
		return nil, nil
	}
	k, err := sip.AcceptCryptoAnswer(c.offered, answer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	s, err := media.NewSRTP(media.SRTPKeys{Suite: media.SRTPSuite(k.Suite), Local: k.LocalKey, Remote: k.RemoteKey})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	c.r.SRTP = k.Suite
	return s, nil
}
