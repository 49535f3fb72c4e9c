package sip

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	gosip "github.com/emiago/sipgo/sip"
)

// sendAddr is the local address requests go out from: over UDP the
// phone's own socket, so the far end sees the address the phone listens
// on (what a real phone does, and what access control keys on); over TCP
// (or TLS) the phone's host with any port.
func (p *Phone) sendAddr() string {
	port := p.port
	if p.cfg.Transport != "udp" {
		port = 0 // a stream transport: any port of our host
	}
	return net.JoinHostPort(p.host, strconv.Itoa(port))
}

// readingConn closes reading at its first read: sipgo has then put the
// socket in its pool, and requests sent from its address use it.
type readingConn struct {
	net.PacketConn
	once    sync.Once
	reading chan struct{}
}

// ReadFrom signals the first read and reads.
func (c *readingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.once.Do(func() { close(c.reading) })
	return c.PacketConn.ReadFrom(b)
}

func (p *Phone) authUser() string {
	if p.cfg.AuthUser != "" {
		return p.cfg.AuthUser
	}
	return p.cfg.From
}

// Register binds the phone's contact at registrar (a SIP URI or host:port)
// for expires, answering a digest challenge with the phone's credentials;
// expires 0 removes the binding. It returns the interval the registrar
// granted. A refusal is a *StatusError (423 carries Min-Expires in Warning).
func (p *Phone) Register(ctx context.Context, registrar string, expires time.Duration) (time.Duration, error) {
	if !strings.HasPrefix(registrar, "sip:") && !strings.HasPrefix(registrar, "sips:") {
		registrar = "sip:" + registrar
	}
	var uri gosip.Uri
	if err := gosip.ParseUri(registrar, &uri); err != nil {
		return 0, fmt.Errorf("sip: registrar %q: %w", registrar, err)
	}
	uri.User = ""
	if p.cfg.Transport == "tcp" {
		uri.UriParams = gosip.NewParams()
		uri.UriParams.Add("transport", "tcp")
	}
	req := p.registerRequest(uri, expires)
	res, err := p.client.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
	if err != nil {
		return 0, fmt.Errorf("sip: register: %w", err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		if p.cfg.AuthPassword == "" {
			return 0, fmt.Errorf("sip: register: %w", responseError(res))
		}
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.authUser(), Password: p.cfg.AuthPassword})
		if err != nil {
			return 0, fmt.Errorf("sip: register: %w", err)
		}
	}
	if !res.IsSuccess() {
		se := responseError(res)
		if h := res.GetHeader("Min-Expires"); h != nil && se.Warning == "" {
			se.Warning = "Min-Expires " + h.Value()
		}
		return 0, fmt.Errorf("sip: register: %w", se)
	}
	return p.grantedExpires(res, expires), nil
}

// registerRequest is a REGISTER of our contact for the From user.
func (p *Phone) registerRequest(registrar gosip.Uri, expires time.Duration) *gosip.Request {
	req := gosip.NewRequest(gosip.REGISTER, registrar)
	aor := gosip.Uri{Scheme: "sip", User: p.cfg.From, Host: registrar.Host, Port: registrar.Port}
	from := &gosip.FromHeader{Address: aor, Params: gosip.NewParams()}
	from.Params.Add("tag", gosip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&gosip.ToHeader{Address: aor, Params: gosip.NewParams()})
	contact := gosip.ContactHeader{Address: gosip.Uri{Scheme: "sip", User: p.cfg.From, Host: p.host, Port: p.port}}
	if p.cfg.Transport == "tcp" {
		contact.Address.UriParams = gosip.NewParams()
		contact.Address.UriParams.Add("transport", "tcp")
	}
	req.AppendHeader(&contact)
	req.AppendHeader(gosip.NewHeader("Expires", strconv.Itoa(int(expires.Seconds()))))
	return req
}

// grantedExpires is the interval the registrar granted our contact: the
// expires parameter of the Contact it returned for us, else its Expires
// header, else what we asked for.
func (p *Phone) grantedExpires(res *gosip.Response, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		if ch, ok := h.(*gosip.ContactHeader); ok && ch.Address.Host == p.host && ch.Address.Port == p.port {
			if v, ok := ch.Params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}
