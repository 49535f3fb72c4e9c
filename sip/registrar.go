package sip

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gosip "github.com/emiago/sipgo/sip"
)

// Registration interval bounds (RFC 3261 §10.2.1.1, §10.3 step 7): shorter
// requests get 423 Interval Too Brief with Min-Expires, longer ones are
// cut to the maximum.
const (
	DefaultMinExpires = 60 * time.Second
	DefaultMaxExpires = time.Hour
	maxBindingsPerAOR = 10
)

// Binding is one registered contact of a user.
type Binding struct {
	Contact string    // the contact URI as registered
	Expires time.Time // when it lapses
}

// registrar keeps REGISTER bindings in memory (they are re-sent by phones
// every few minutes, so a restart loses nothing lasting).
type registrar struct {
	now      func() time.Time
	min, max time.Duration

	mu   sync.Mutex
	aors map[string]map[string]time.Time // user → contact URI → expiry
}

func newRegistrar(now func() time.Time, min, max time.Duration) *registrar {
	if min <= 0 {
		min = DefaultMinExpires
	}
	if max < min {
		max = DefaultMaxExpires
	}
	return &registrar{now: now, min: min, max: max, aors: make(map[string]map[string]time.Time)}
}

// change is one contact to bind (expires > 0) or remove.
type change struct {
	uri     string
	expires time.Duration
}

// regError is a refused REGISTER's status.
type regError struct {
	code   int
	reason string
	hdrs   []gosip.Header
}

// changes reads the Contact headers and expiry of a REGISTER. all is true
// for "Contact: *" with Expires: 0 (remove every binding).
func (r *registrar) changes(req *gosip.Request) (cs []change, all bool, rerr *regError) {
	def := r.max
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			return nil, false, &regError{code: 400, reason: "Bad Request", hdrs: warning("bad Expires header")}
		}
		def = time.Duration(n) * time.Second
	}
	for _, h := range req.GetHeaders("Contact") {
		ch, ok := h.(*gosip.ContactHeader)
		if !ok {
			return nil, false, &regError{code: 400, reason: "Bad Request", hdrs: warning("bad Contact header")}
		}
		if ch.Address.Wildcard {
			if def != 0 || len(req.GetHeaders("Contact")) != 1 {
				return nil, false, &regError{code: 400, reason: "Bad Request", hdrs: warning("Contact: * needs Expires: 0 and no other Contact")}
			}
			return nil, true, nil
		}
		exp := def
		if v, ok := ch.Params.Get("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, false, &regError{code: 400, reason: "Bad Request", hdrs: warning("bad expires parameter")}
			}
			exp = time.Duration(n) * time.Second
		}
		if exp > 0 && exp < r.min {
			return nil, false, &regError{code: 423, reason: "Interval Too Brief",
				hdrs: []gosip.Header{gosip.NewHeader("Min-Expires", strconv.Itoa(int(r.min.Seconds())))}}
		}
		cs = append(cs, change{uri: ch.Address.String(), expires: min(exp, r.max)})
	}
	return cs, false, nil
}

// apply makes the changes for user and returns the bindings in force.
func (r *registrar) apply(user string, cs []change, all bool) []Binding {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.aors[user]
	if m == nil {
		m = make(map[string]time.Time)
		r.aors[user] = m
	}
	if all {
		clear(m)
	}
	for _, c := range cs {
		if c.expires == 0 {
			delete(m, c.uri)
			continue
		}
		m[c.uri] = now.Add(c.expires)
	}
	out := r.current(user, now)
	for len(out) > maxBindingsPerAOR { // drop the ones lapsing first
		delete(m, out[0].Contact)
		out = out[1:]
	}
	return out
}

// current returns user's unexpired bindings, soonest lapsing first, and
// forgets the lapsed ones; r.mu is held.
func (r *registrar) current(user string, now time.Time) []Binding {
	m := r.aors[user]
	var out []Binding
	for uri, exp := range m {
		if !now.Before(exp) {
			delete(m, uri)
			continue
		}
		out = append(out, Binding{Contact: uri, Expires: exp})
	}
	if len(m) == 0 {
		delete(r.aors, user)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Expires.Before(out[j].Expires) })
	return out
}

// bindings returns user's bindings in force.
func (r *registrar) bindings(user string) []Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current(user, r.now())
}

// count returns the number of bindings in force over all users.
func (r *registrar) count() int {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for user := range r.aors {
		n += len(r.current(user, now))
	}
	return n
}

// contactHeaders are the 200 OK's Contact headers: each binding with the
// seconds it has left (RFC 3261 §10.3 step 8).
func contactHeaders(bs []Binding, now time.Time) []gosip.Header {
	hs := make([]gosip.Header, 0, len(bs))
	for _, b := range bs {
		left := int(b.Expires.Sub(now).Round(time.Second).Seconds())
		hs = append(hs, gosip.NewHeader("Contact", "<"+b.Contact+">;expires="+strconv.Itoa(left)))
	}
	return hs
}

func warning(text string) []gosip.Header {
	return []gosip.Header{gosip.NewHeader("Warning", "399 ivr "+strconv.Quote(text))}
}
