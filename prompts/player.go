package prompts

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/supportline/ivr/media"
)

// Silence between clips. Snippets are cut tight, but each was spoken on its
// own, slower than in a sentence: "three hundred twenty one dollars and nine
// cents" joined with no gap lasts 3.40 s where the voice says the sentence in
// 2.83 s, and a 30 ms gap makes it 3.60 s. So words join with no gap. After a
// clip whose text ends a sentence (. ? !) the Player pauses as the voice does
// between sentences (about 280 ms measured in festival's own output).
const (
	DefaultGap           time.Duration = 0
	DefaultSentencePause               = 300 * time.Millisecond
)

// Player states.
const (
	playing int32 = iota
	finished
	stopped
)

// segment is a clip's audio, or a gap of n silent samples when pcm is nil.
type segment struct {
	pcm []int16
	n   int
}

// Player is a media.Source that plays clips back to back. It can be stopped
// at once from another goroutine (barge-in), reports when it ends, and can
// loop (hold music).
//
// ReadFrame must be called from one goroutine at a time (the RTP sender);
// Stop, Done, Interrupted and Position are safe from any goroutine.
// ReadFrame does not allocate.
type Player struct {
	segs   []segment
	loop   bool
	gap    time.Duration
	pause  time.Duration
	names  string
	length int // samples in one pass

	// Reader state, owned by the goroutine calling ReadFrame.
	seg, off int

	state  atomic.Int32
	played atomic.Int64 // samples handed out
	done   chan struct{}
}

// PlayerOption configures a Player.
type PlayerOption func(*Player)

// WithGap sets the silence between clips within a sentence (DefaultGap if
// not given; 0 joins them sample to sample).
func WithGap(d time.Duration) PlayerOption {
	return func(p *Player) { p.gap = max(d, 0) }
}

// WithSentencePause sets the silence after a clip whose text ends a sentence
// (DefaultSentencePause if not given).
func WithSentencePause(d time.Duration) PlayerOption {
	return func(p *Player) { p.pause = max(d, 0) }
}

// WithLoop makes the Player start again after the last clip until Stop. One
// clip loops seamlessly; several have their usual gap at the wrap too.
func WithLoop() PlayerOption {
	return func(p *Player) { p.loop = true }
}

// NewPlayer returns a Player of clips, in order.
func NewPlayer(clips []*Clip, opts ...PlayerOption) *Player {
	p := &Player{gap: DefaultGap, pause: DefaultSentencePause, done: make(chan struct{})}
	for _, o := range opts {
		o(p)
	}
	names := make([]string, len(clips))
	for i, c := range clips {
		names[i] = c.Name
		if i > 0 {
			p.addGap(clips[i-1])
		}
		if len(c.PCM) > 0 {
			p.segs = append(p.segs, segment{pcm: c.PCM, n: len(c.PCM)})
		}
	}
	if p.loop && len(clips) > 1 {
		p.addGap(clips[len(clips)-1])
	}
	for _, s := range p.segs {
		p.length += s.n
	}
	p.names = strings.Join(names, ",")
	return p
}

// addGap appends the silence that follows clip c.
func (p *Player) addGap(c *Clip) {
	d := p.gap
	if endsSentence(c.Text) {
		d = p.pause
	}
	if n := int(d * media.SampleRate / time.Second); n > 0 {
		p.segs = append(p.segs, segment{n: n})
	}
}

// endsSentence reports whether text ends with sentence punctuation.
func endsSentence(text string) bool {
	return strings.HasSuffix(text, ".") || strings.HasSuffix(text, "?") || strings.HasSuffix(text, "!")
}

// String describes the player for logs and stage chains, e.g.
// "Player(welcome,menu_main_dtmf)".
func (p *Player) String() string {
	if p.loop {
		return "Player(loop " + p.names + ")"
	}
	return "Player(" + p.names + ")"
}

// ReadFrame fills f with the next frame. The last frame is padded with
// silence; after it, or once Stop has been called, ReadFrame returns false
// and leaves f untouched.
func (p *Player) ReadFrame(f []int16) bool {
	if p.state.Load() != playing {
		return false
	}
	if p.length == 0 {
		p.finish()
		return false
	}
	i := 0
	for i < len(f) {
		if p.seg == len(p.segs) {
			if !p.loop {
				clear(f[i:])
				p.finish()
				break
			}
			p.seg = 0
		}
		s := p.segs[p.seg]
		k := min(len(f)-i, s.n-p.off)
		if s.pcm != nil {
			copy(f[i:i+k], s.pcm[p.off:p.off+k])
		} else {
			clear(f[i : i+k])
		}
		i += k
		p.off += k
		if p.off == s.n {
			p.seg++
			p.off = 0
		}
	}
	p.played.Add(int64(len(f)))
	if !p.loop && p.seg == len(p.segs) {
		p.finish()
	}
	return true
}

// finish marks the end of playback.
func (p *Player) finish() {
	if p.state.CompareAndSwap(playing, finished) {
		close(p.done)
	}
}

// Stop ends playback at once: the next ReadFrame returns false. It is safe
// to call from any goroutine, more than once, and after the end.
func (p *Player) Stop() {
	if p.state.CompareAndSwap(playing, stopped) {
		close(p.done)
	}
}

// Done is closed when the Player ends, by playing its last sample or by
// Stop. A looping Player ends only by Stop.
func (p *Player) Done() <-chan struct{} { return p.done }

// Interrupted reports that Stop ended the Player before its last sample.
func (p *Player) Interrupted() bool { return p.state.Load() == stopped }

// Position returns how much audio the Player has handed out, silence
// between clips included: with Interrupted, how far the caller heard before
// barging in.
func (p *Player) Position() time.Duration {
	return time.Duration(p.played.Load()) * time.Second / media.SampleRate
}
