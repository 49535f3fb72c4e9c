package asr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/supportline/ivr/media"
)

// preRollFrames is the audio kept before speech starts (300 ms) so that the
// decoder hears the onset the VAD needed to become sure.
const preRollFrames = 15

const frameDur = 20 * time.Millisecond

type frameIn struct {
	pcm [media.FrameSamples]int16
	at  time.Time
}

// NewStream opens a recognition stream. It runs one goroutine, which ends
// with ctx or Close; it holds a decoder only while the caller speaks.
func (s *Sphinx) NewStream(ctx context.Context, cfg StreamConfig) (Stream, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	cfg = cfg.withDefaults()
	if cfg.Grammar != "" {
		if _, ok := s.grammars[cfg.Grammar]; !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownGrammar, cfg.Grammar)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	st := &sphinxStream{
		rec:    s,
		cfg:    cfg,
		log:    cfg.Log,
		ctx:    ctx,
		cancel: cancel,
		in:     make(chan *frameIn, cfg.QueueFrames),
		events: make(chan Event, 32),
		done:   make(chan struct{}),
		vad:    NewVAD(cfg.VAD),
		fe:     NewFrontEnd(s.cfg.FrontEnd, s.seed.Add(7919)),
		free:   sync.Pool{New: func() any { return new(frameIn) }},
	}
	st.listen.grammar = cfg.Grammar
	if cfg.Grammar != "" {
		st.listen.gen = 1
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		st.run()
	}()
	return st, nil
}

type sphinxStream struct {
	rec    *Sphinx
	cfg    StreamConfig
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	in     chan *frameIn
	events chan Event
	done   chan struct{}
	closed atomic.Bool
	free   sync.Pool

	listen struct {
		sync.Mutex
		grammar string
		gen     int // bumped by Listen: re-arms the no-input time-out
	}

	// Owned by the run goroutine.
	vad      *VAD
	fe       *FrontEnd
	frames   int // audio clock, in frames
	preRoll  [][media.FrameSamples]int16
	dec      *sphinx
	utt      utterance
	armedGen int
	armedAt  int
	pcm16    []int16
	voice    voiceMeter // the utterance's Voice
}

type utterance struct {
	grammar string
	pending []int16 // 8 kHz audio buffered while no decoder is free
	heard   []int16 // 16 kHz audio the decoder got, when a retry may need it
	keep    bool    // keep heard: a number grammar, with retry decoders
	start   int     // frame of speech start
	wait    time.Duration
	failed  error
	lastHyp string
}

// String describes the stream's chain.
func (st *sphinxStream) String() string {
	return fmt.Sprintf("VAD -> %s -> PocketSphinx", st.fe)
}

// SampleRate is the rate of the frames WriteSample takes.
func (st *sphinxStream) SampleRate() int { return media.SampleRate }

// WriteSample queues one 20 ms frame. It blocks only when the stream has
// fallen StreamConfig.QueueFrames behind.
func (st *sphinxStream) WriteSample(pcm []int16) error {
	if len(pcm) != media.FrameSamples {
		return fmt.Errorf("%w: %d samples, want %d", ErrFrameSize, len(pcm), media.FrameSamples)
	}
	if st.ctx.Err() != nil {
		return st.closedErr()
	}
	f := st.free.Get().(*frameIn)
	copy(f.pcm[:], pcm)
	f.at = time.Now()
	select {
	case st.in <- f:
		return nil
	case <-st.ctx.Done():
		return st.closedErr()
	}
}

// closedErr is ErrClosed with the reason the stream's context ended (the
// call hung up, an evaluation ran out of time), for logs and reports.
func (st *sphinxStream) closedErr() error {
	return fmt.Errorf("%w: %w", ErrClosed, context.Cause(st.ctx))
}

// Listen selects the grammar for the next utterance.
func (st *sphinxStream) Listen(grammar string) error {
	if _, ok := st.rec.grammars[grammar]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownGrammar, grammar)
	}
	st.listen.Lock()
	defer st.listen.Unlock()
	st.listen.grammar = grammar
	st.listen.gen++
	return nil
}

// Events delivers the stream's events; it is closed when the stream ends.
func (st *sphinxStream) Events() <-chan Event { return st.events }

// Close stops the stream and waits for its goroutine.
func (st *sphinxStream) Close() error {
	if st.closed.CompareAndSwap(false, true) {
		st.cancel()
	}
	<-st.done
	return nil
}

func (st *sphinxStream) run() {
	defer close(st.done)
	defer close(st.events)
	defer func() {
		if st.dec != nil {
			st.rec.release(st.dec)
			st.dec = nil
		}
	}()
	for {
		select {
		case <-st.ctx.Done():
			return
		case f := <-st.in:
			st.frame(f)
			st.free.Put(f)
		}
	}
}

// emit sends an event; partials are dropped rather than wait for a slow reader.
func (st *sphinxStream) emit(e Event) {
	if e.Type == EventPartial {
		select {
		case st.events <- e:
		default:
		}
		return
	}
	select {
	case st.events <- e:
	case <-st.ctx.Done():
	}
}

func (st *sphinxStream) at() time.Duration { return time.Duration(st.frames) * frameDur }

// frame runs one frame through the VAD and, in speech, the decoder.
func (st *sphinxStream) frame(f *frameIn) {
	st.frames++
	st.listen.Lock()
	grammar, gen := st.listen.grammar, st.listen.gen
	st.listen.Unlock()
	if gen != st.armedGen {
		st.armedGen, st.armedAt = gen, st.frames
	}
	ev := st.vad.Process(f.pcm[:])
	if !st.vad.InSpeech() && ev != VADEnd {
		st.pushPreRoll(f)
		if st.armedAt > 0 && st.cfg.NoInput > 0 && time.Duration(st.frames-st.armedAt)*frameDur >= st.cfg.NoInput {
			st.armedAt = 0
			st.emit(Event{Type: EventNoInput, Grammar: grammar, At: st.at()})
		}
		return
	}
	if ev == VADStart {
		st.armedAt = 0
		st.emit(Event{Type: EventSpeechStart, Grammar: grammar, At: st.at()})
		st.startUtterance(grammar)
		st.pushPreRoll(f)
		for _, p := range st.preRoll {
			st.feed(p[:])
		}
		st.preRoll = st.preRoll[:0]
		return
	}
	if ev != VADEnd {
		st.feed(f.pcm[:])
		if time.Duration(st.frames-st.utt.start)*frameDur >= st.cfg.MaxUtterance {
			trailing := st.vad.SilenceRun()
			st.vad = NewVAD(st.cfg.VAD) // force the end; re-learn the floor
			st.endUtterance(f.at, trailing)
			return
		}
		st.maybeShorten()
		return
	}
	st.feed(f.pcm[:])
	st.endUtterance(f.at, st.vad.EndedAfter())
}

func (st *sphinxStream) pushPreRoll(f *frameIn) {
	if len(st.preRoll) == preRollFrames {
		copy(st.preRoll, st.preRoll[1:])
		st.preRoll = st.preRoll[:preRollFrames-1]
	}
	st.preRoll = append(st.preRoll, f.pcm)
}

// startUtterance starts decoding the grammar's search: streaming when a
// decoder is free beyond the reserve, else buffering until one is (or until
// the end of speech).
func (st *sphinxStream) startUtterance(grammar string) {
	st.utt = utterance{grammar: grammar, start: st.frames, pending: st.utt.pending[:0], heard: st.utt.heard[:0]}
	if cg, ok := st.rec.grammars[grammar]; ok {
		st.utt.keep = st.rec.retry != nil && cg.g.Open || cg.g.VerifyAgent > 0
	}
	st.fe.Reset()
	st.voice.reset()
	if grammar == "" {
		st.utt.failed = fmt.Errorf("%w: no grammar selected (call Listen)", ErrUnknownGrammar)
		return
	}
}

// begin starts the search on d, sets its cepstral mean and feeds it the
// buffered audio.
func (st *sphinxStream) begin(d *sphinx) {
	st.dec = d
	mean := st.rec.utteranceCMN()
	if err := d.start(st.utt.grammar); err != nil {
		st.utt.failed = err
		st.rec.release(d)
		st.dec = nil
		return
	}
	if mean != nil {
		d.setCMN(mean)
	}
	const chunk = 2 * media.FrameSamples * 10
	for i := 0; i < len(st.utt.pending) && st.utt.failed == nil; i += chunk {
		st.decode16(st.utt.pending[i:min(len(st.utt.pending), i+chunk)])
	}
	st.utt.pending = st.utt.pending[:0]
}

// feed runs one 8 kHz frame through the front-end into the decoder, or
// buffers it while the utterance has no decoder.
func (st *sphinxStream) feed(pcm []int16) {
	st.voice.add(pcm)
	if st.utt.failed != nil || st.utt.grammar == "" {
		return
	}
	if st.dec == nil {
		st.utt.pending = st.fe.Process(st.utt.pending, pcm)
		if d := st.rec.tryAcquire(st.rec.reserve); d != nil {
			st.begin(d)
		}
		return
	}
	st.pcm16 = st.fe.Process(st.pcm16[:0], pcm)
	st.decode16(st.pcm16)
}

func (st *sphinxStream) decode16(pcm16 []int16) {
	if st.utt.keep {
		st.utt.heard = append(st.utt.heard, pcm16...)
	}
	if err := st.dec.process(pcm16); err != nil {
		st.utt.failed = err
		return
	}
	if st.cfg.Partials && (st.frames-st.utt.start)%10 == 0 {
		hyp, _ := st.dec.hyp()
		if _, words := cleanHyp(hyp); words != "" && words != st.utt.lastHyp {
			st.utt.lastHyp = words
			st.emit(Event{Type: EventPartial, Grammar: st.utt.grammar, Text: words, At: st.at()})
		}
	}
}

// maybeShorten shortens the end-of-speech silence once the hypothesis is
// already a complete phrase of a closed grammar.
func (st *sphinxStream) maybeShorten() {
	if st.cfg.ShortEndSilence < 0 || st.dec == nil || st.utt.failed != nil || st.vad.SilenceRun() != 1 {
		return
	}
	cg := st.rec.grammars[st.utt.grammar]
	if cg.g.Open {
		return
	}
	hyp, _ := st.dec.hyp()
	all, _ := cleanHyp(hyp)
	if cg.match(all) != "" {
		st.vad.SetEndSilence(st.cfg.ShortEndSilence)
	}
}

// endUtterance finishes the decode and reports the result; trailing is
// the number of silent frames that ended the utterance.
func (st *sphinxStream) endUtterance(endWrite time.Time, trailing int) {
	tail := time.Duration(trailing) * frameDur
	st.emit(Event{Type: EventSpeechEnd, Grammar: st.utt.grammar, At: st.at(), Trailing: tail})
	ev := st.result()
	ev.Grammar, ev.At, ev.DecoderWait, ev.Trailing = st.utt.grammar, st.at(), st.utt.wait, tail
	ev.Latency = time.Since(endWrite)
	if ev.Type == EventError {
		st.log.Warn("asr: recognition failed", "grammar", st.utt.grammar, "err", ev.Err)
	} else {
		st.log.Debug("asr: result", "type", ev.Type, "intent", ev.Intent, "text", maskDigits(st.utt.grammar, ev.Text),
			"confidence", ev.Confidence, "latency", ev.Latency, "decoder_wait", ev.DecoderWait)
	}
	st.emit(ev)
}

func (st *sphinxStream) result() Event {
	if st.dec == nil && st.utt.failed == nil && st.utt.grammar != "" {
		// Buffered utterance: wait for any decoder and decode it in one go.
		d, wait, err := st.rec.acquire(st.ctx)
		st.utt.wait = wait
		if err != nil {
			st.utt.failed = err
		} else {
			st.begin(d)
		}
	}
	d := st.dec
	st.dec = nil
	held := d // returned to the pool at the end, or before a retry
	defer func() {
		if held != nil {
			st.rec.release(held)
		}
	}()
	if st.utt.failed != nil {
		if errors.Is(st.utt.failed, context.Canceled) {
			return Event{Type: EventNoMatch}
		}
		return Event{Type: EventError, Err: st.utt.failed}
	}
	hyp, _, _, _, err := d.end()
	if err != nil {
		return Event{Type: EventError, Err: err}
	}
	segs := d.segments()
	cg := st.rec.grammars[st.utt.grammar]
	retried := false
	if len(segs) == 0 && st.utt.keep && len(st.utt.heard) > 0 {
		// No path reached the end of a number grammar: a search failure,
		// not an answer. Their garbage loop is dear (digits must win over
		// it), so the narrow beams can prune every path that ends; decode
		// the utterance again with wide beams. In the closed grammars the
		// cheap garbage loop always offers a path, and a failure there is
		// speech nothing fits: retrying it turned out-of-grammar sentences
		// into requests for a person (README).
		st.rec.release(held) // its result is read; others may use it meanwhile
		held = nil
		if h, s, ok := st.retry(); ok {
			hyp, segs, retried = h, s, true
		}
	}
	ev := st.event(cg, hyp, segs)
	ev.Retried = retried
	ev.Voice = st.voice.voice(len(strings.Fields(ev.Text)))
	if ev.Intent == IntentAgent && cg.g.VerifyAgent > 0 && held != nil && len(st.utt.heard) > 0 {
		if v, ok := st.verify(held, cg); ok {
			st.log.Debug("asr: request for a person verified", "first", ev.Text, "second", v.Text, "intent", v.Intent)
			v.Voice = ev.Voice // the same audio
			ev = v
		}
	}
	return ev
}

// event makes the event of a hypothesis and its path in grammar cg: a
// final result when its words match a rule and pass the rejection limits,
// else a no-match.
func (st *sphinxStream) event(cg *compiledGrammar, hyp string, segs []WordScore) Event {
	all, words := cleanHyp(hyp)
	st.log.Debug("asr: hypothesis", "grammar", cg.g.Name, "hyp", maskDigits(cg.g.Name, all))
	intent, cues := cg.matchCues(all)
	ev := Event{Type: EventNoMatch, Text: words, Confidence: confidence(segs), AcousticGap: acousticGap(segs),
		PhoneFrames: phoneFrames(segs, st.rec.phones), Cues: cues, Words: segs}
	if intent == "" || !st.rec.accept(cg.g, intent, words, ev.Confidence, ev.AcousticGap, ev.PhoneFrames) {
		return ev
	}
	ev.Type, ev.Intent = EventFinal, intent
	switch intent {
	case IntentDigits:
		ev.Value, _ = ParseDigits(words)
	case IntentAmount:
		if c, ok := ParseAmount(words); ok {
			ev.Value = FormatCents(c)
		}
	}
	return ev
}

// verify decodes the utterance's audio again on d, the decoder that heard
// it, with cg's verification copy (Grammar.VerifyAgent), and returns that
// result; ok is false when the second decode failed (the first result
// stands).
func (st *sphinxStream) verify(d *sphinx, cg *compiledGrammar) (Event, bool) {
	vcg, ok := st.rec.grammars[cg.g.Name+verifySuffix]
	if !ok {
		return Event{}, false
	}
	hyp, err := st.decodeHeard(d, vcg.g.Name)
	if err != nil {
		st.log.Warn("asr: verification failed", "grammar", vcg.g.Name, "err", err)
		return Event{}, false
	}
	return st.event(vcg, hyp, d.segments()), true
}

// decodeHeard decodes the utterance's audio as the decoder heard it again
// on d with search, from the utterance's starting cepstral mean, and
// returns the hypothesis; d.segments() then has its path.
func (st *sphinxStream) decodeHeard(d *sphinx, search string) (string, error) {
	if err := d.start(search); err != nil {
		return "", err
	}
	if mean := st.rec.utteranceCMN(); mean != nil {
		d.setCMN(mean)
	}
	if err := d.process(st.utt.heard); err != nil {
		return "", err
	}
	hyp, _, _, _, err := d.end()
	return hyp, err
}

// retry decodes the utterance's audio again on a wide-beam decoder and
// returns its hypothesis and path; ok is false when the call ended or the
// decode failed (the first result stands).
func (st *sphinxStream) retry() (hyp string, segs []WordScore, ok bool) {
	d, err := st.rec.acquireRetry(st.ctx)
	if err != nil {
		return "", nil, false // the call ended
	}
	defer st.rec.releaseRetry(d)
	hyp, err = st.decodeHeard(d, st.utt.grammar)
	if err != nil {
		st.log.Warn("asr: retry failed", "grammar", st.utt.grammar, "err", err)
		return "", nil, false
	}
	return hyp, d.segments(), true
}

// confidence is the share of non-silence frames the grammar's words take.
func confidence(segs []WordScore) float64 {
	var word, garbage int
	for _, s := range segs {
		switch {
		case len(s.Word) > 0 && (s.Word[0] == '<' || s.Word[0] == '['):
		case isGarbage(s.Word):
			garbage += s.Frames
		default:
			word += s.Frames
		}
	}
	if word+garbage == 0 {
		return 0
	}
	return float64(word) / float64(word+garbage)
}

// maskDigits is text as a log may show it: what was said to the digits
// grammar (a PIN, an account or card number) becomes one '*' per word, at
// every log level.
func maskDigits(grammar, text string) string {
	if grammar != GrammarDigits {
		return text
	}
	return strings.TrimSpace(strings.Repeat("* ", len(strings.Fields(text))))
}
