package server

import (
	"sync"
	"time"

	"github.com/supportline/ivr/media"
)

// pressDedupe counts a key press once when it arrives two ways (RFC 4733
// and in-band tone): a press of the same digit from the other path whose
// start is within window of an unpaired earlier one is the same press.
type pressDedupe struct {
	window time.Duration
	mu     sync.Mutex
	recent []media.DTMF // unpaired presses inside the window
}

// Add reports whether d is a new press.
func (m *pressDedupe) Add(d media.DTMF) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.recent[:0]
	fresh := true
	for _, r := range m.recent {
		if d.At.Sub(r.At) > m.window || r.At.Sub(d.At) > m.window {
			continue // expired
		}
		if fresh && r.Digit == d.Digit && r.Source != d.Source {
			fresh = false // paired: drop both
			continue
		}
		kept = append(kept, r)
	}
	m.recent = kept
	if fresh {
		m.recent = append(m.recent, d)
	}
	return fresh
}
