package asr

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SphinxConfig configures the PocketSphinx backend. Zero fields take the
// defaults.
type SphinxConfig struct {
	// ModelDir holds the acoustic model directory "en-us" and the
	// dictionary "cmudict-en-us.dict". Default: DefaultModelDir().
	ModelDir string
	// Decoders is the size of the decoder pool shared by all streams.
	// Default DecodersPerCPU per CPU: a decoder is held only while someone
	// speaks.
	Decoders int
	// Grammars are the grammars streams can Listen for. Default
	// DefaultGrammars().
	Grammars []*Grammar
	// FrontEnd tunes the phone-audio front-end.
	FrontEnd FrontEndConfig
	// CMNInit is the cepstral mean every utterance is normalised with from
	// its first frame. Nil means DefaultCMNInit. Each utterance starts from
	// it afresh, so a result does not depend on which calls a pooled
	// decoder served before.
	CMNInit []float32
	// StreamReserve is how many decoders are kept free for utterances that
	// found none at speech start and are decoded in one go at the end of
	// speech. 0 means one per CPU (those decodes are CPU-bound: more at
	// once finish no sooner); negative streams whenever a decoder is free.
	StreamReserve int
	// MinConfidence turns a result into a no-match when the grammar's words
	// explain less than this share of the utterance's speech frames (the
	// rest went to the garbage phone loop). 0 disables (the default):
	// measured on a held-out corpus (README), 0.4 cut false accepts only
	// from 31% to 29% and cost correct results, among them requests for a
	// person inside longer sentences.
	MinConfidence float64
	// MaxAcousticGap turns a result into a no-match when its words fit the
	// audio worse than this (Event.AcousticGap). 0 means
	// DefaultMaxAcousticGap; negative disables.
	MaxAcousticGap float64
	// MaxAgentGap is MaxAcousticGap for requests for a person (IntentAgent)
	// alone: a deployment that would rather hand a calm caller over than
	// miss a request sets it higher (README: at 58, 46 of 48 scripted
	// requests heard at once instead of 39, and 23 % of calm callers handed
	// over instead of 12 %). 0 means MaxAcousticGap; negative disables.
	MaxAgentGap float64
	// MaxBareAgentGap raises MaxAgentGap for a request for a person said
	// with the words for a person alone ("operator", "a real person"),
	// which explain at least half of the speech (bareAgentShare). A caller
	// who answers the open question with just those words has asked for
	// one; the calm callers' sentences that the decoder forces onto a
	// request come out as longer phrases ("i would like to talk to
	// someone"), which keep MaxAgentGap. 0 means DefaultMaxBareAgentGap;
	// negative, or a value under MaxAgentGap, leaves MaxAgentGap alone.
	MaxBareAgentGap float64
	// MinPhoneFrames turns a result into a no-match when its words take
	// fewer frames (10 ms) per phone than this on average
	// (Event.PhoneFrames): out-of-grammar speech forced onto a longer
	// phrase, or a click heard as "bye", squeezes the words' phones. 0
	// means DefaultMinPhoneFrames; negative disables.
	MinPhoneFrames float64
	// RetryDecoders is the pool of decoders with wide beams that decode an
	// utterance again when the search found no path through its grammar
	// at all (PocketSphinx: "final result does not match the grammar"):
	// the narrow default beams pruned the right path, and a wider search
	// finds it (README). 0 means one per CPU; negative disables.
	RetryDecoders int
	// MLLR is the path of a transform of the model's means (SphinxTrain's
	// mllr_solve format, one class). "" uses the embedded phone-channel
	// transform (asr/phone.mllr); MLLRNone, none.
	MLLR string
	// Args are extra decoder arguments, e.g. {"-beam", "1e-40"}.
	Args []string
	// Log receives start-up and pool messages.
	Log *slog.Logger
	// Verbose lets PocketSphinx write its own log to stderr.
	Verbose bool
}

// DecodersPerCPU sizes the default decoder pool. An utterance that finds a
// decoder at speech start is decoded as it is spoken, and its result is
// ready a few milliseconds after the end of speech; one that finds none is
// decoded in one go after it, which takes some 100 ms of CPU and queues
// behind others. At 50 streams on 2 CPUs (`ivr asr load`, quiet machine),
// 4 per CPU with half of them reserved for the latter gave end-of-speech →
// result p50 84–109 / p95 253–349 ms; 12 per CPU with one per CPU reserved,
// 2–5 / 16–36 ms, for the same CPU (README). Each decoder holds about 30 MB.
const DecodersPerCPU = 12

// DecodersFor is the pool for at most streams streams talking at once: one
// decoder each and the end-of-speech reserve, no more than the default pool.
func DecodersFor(streams int) int {
	return min(DecodersPerCPU*runtime.NumCPU(), streams+runtime.NumCPU())
}

// DefaultMaxAcousticGap is the rejection threshold on Event.AcousticGap.
// Without the phone-channel MLLR it cost too much (44: false accepts 31 ->
// 12 %, intent accuracy 85 -> 77 %) and was off. With it, words the grammar
// covers fit closer, and 50 measured on two held-out corpora and two sets of
// scripted calls (README): false accepts 33 -> 24-26 %, intent accuracy
// 90 -> 88 %, calm callers handed over 24 -> 14 %, frustrated callers handed
// over within two turns 90 -> 93 %.
const DefaultMaxAcousticGap = 50

// DefaultMaxBareAgentGap is SphinxConfig.MaxBareAgentGap's default. The
// requests said as the words alone that the general limit lost scored
// 50.2-57.9 on the scripted calls; a limit of 58 for them, and them only,
// got 5 more of 96 requests heard at once, and 95.8 instead of 87.5 % of
// the fast requests, while calm callers handed over, frustrated callers and
// the held-out corpora stayed as they were (README).
const DefaultMaxBareAgentGap = 58

// DefaultMinPhoneFrames is the rejection threshold on Event.PhoneFrames:
// only squeezes faster than any speech measured (a click or a burst of line
// noise heard as "bye"). Words said as the grammar has them take 7 to 15
// frames per phone on the corpus; requests for a person said at 260 words a
// minute, down to 4.8 (scripts/gen-fast-requests.sh). Higher floors trade
// better on the corpus (6: false accepts -2 to -8 points for at most -0.5
// points of intent accuracy) but turn fast requests for a person into
// no-matches (6: 87.5 -> 55.6 % of them heard), so they are not used
// (README).
const DefaultMinPhoneFrames = 4.5

// RetryBeams are the beams of the retry decoders (SphinxConfig.RetryDecoders):
// 1e-80 / 1e-60 against PocketSphinx's 1e-48 / 1e-29 for states and words,
// a few times the CPU of a normal decode, spent only on the few utterances
// whose search found no path. 1e-60 / 1e-40 rescued fewer of them (README).
var RetryBeams = []string{"-beam", "1e-80", "-pbeam", "1e-80", "-wbeam", "1e-60"}

// DefaultDecoderArgs are decoder settings tuned for short phone utterances:
// live CMN (reset per utterance to SphinxConfig.CMNInit) and a language
// weight of 4.5, measured best on the corpus (README).
//
// PocketSphinx's own noise subtraction and silence removal are off: both
// keep estimates from one utterance to the next, so on a pooled decoder a
// caller's result depended on other calls' audio (TestResultIndependentOfHistory).
// Our VAD already cuts the utterance; with the phone-channel MLLR, turning
// them off measured the same accuracy (three held-out corpora, README).
var DefaultDecoderArgs = []string{"-cmn", "live", "-lw", "4.5", "-remove_noise", "no", "-remove_silence", "no"}

// DefaultCMNInit is the mean cepstrum of the front-end's output over the
// speech utterances of the generated corpus (seed 42), as the decoder's own
// front-end computes it. The model's own -cmninit is for wide-band speech
// and measured far worse on phone audio.
var DefaultCMNInit = []float32{53.28, -2.12, -5.03, 7.88, -4.72, -7.33, -0.69, -11.84, -3.23, -0.11, -3.06, 0.10, -3.28}

// DefaultModelDir finds the installed en-us model: pkg-config's modeldir
// for pocketsphinx, then the Debian path.
func DefaultModelDir() string {
	var dirs []string
	if out, err := exec.Command("pkg-config", "--variable=modeldir", "pocketsphinx").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			dirs = append(dirs, filepath.Join(d, "en-us"))
		}
	}
	dirs = append(dirs, "/usr/share/pocketsphinx/model/en-us", "/usr/local/share/pocketsphinx/model/en-us")
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "en-us", "mdef")); err == nil {
			return d
		}
	}
	return dirs[0]
}

// Sphinx is the PocketSphinx recognizer: a pool of decoders, each holding
// every grammar as a named search, shared by all streams.
type Sphinx struct {
	cfg      SphinxConfig
	log      *slog.Logger
	grammars map[string]*compiledGrammar
	pool     chan *sphinx
	retry    chan *sphinx // wide-beam decoders for searches that found no path
	all      []*sphinx
	seed     atomic.Uint64
	stats    poolStats
	closed   atomic.Bool
	wg       sync.WaitGroup // streams

	cmnInit []float32      // cepstral mean every utterance starts from
	reserve int            // decoders kept free for buffered utterances
	phones  map[string]int // phones of each dictionary entry, for phoneFrames
}

// utteranceCMN returns the cepstral mean an utterance is decoded with.
func (s *Sphinx) utteranceCMN() []float32 { return s.cmnInit }

// NewSphinx loads the model and grammars into a pool of decoders. A missing
// model, a word missing from the dictionary or a malformed grammar is an
// error here, never later during a call.
func NewSphinx(cfg SphinxConfig) (*Sphinx, error) {
	if cfg.ModelDir == "" {
		cfg.ModelDir = DefaultModelDir()
	}
	if cfg.Decoders <= 0 {
		cfg.Decoders = DecodersPerCPU * runtime.NumCPU()
	}
	if cfg.Grammars == nil {
		cfg.Grammars = DefaultGrammars()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Args == nil {
		cfg.Args = DefaultDecoderArgs
	}
	if cfg.CMNInit == nil {
		cfg.CMNInit = DefaultCMNInit
	}
	if cfg.MaxAcousticGap == 0 {
		cfg.MaxAcousticGap = DefaultMaxAcousticGap
	}
	if cfg.MaxAgentGap == 0 {
		cfg.MaxAgentGap = cfg.MaxAcousticGap
	}
	if cfg.MaxBareAgentGap == 0 {
		cfg.MaxBareAgentGap = DefaultMaxBareAgentGap
	}
	if cfg.MinPhoneFrames == 0 {
		cfg.MinPhoneFrames = DefaultMinPhoneFrames
	}
	s := &Sphinx{cfg: cfg, log: cfg.Log, grammars: map[string]*compiledGrammar{}}
	hmm := filepath.Join(cfg.ModelDir, "en-us")
	if _, err := os.Stat(filepath.Join(hmm, "mdef")); err != nil {
		return nil, fmt.Errorf("%w: no acoustic model in %s: %v", ErrModel, hmm, err)
	}
	words := map[string]bool{}
	background := map[string]bool{}
	gs := cfg.Grammars
	for _, g := range cfg.Grammars {
		if g.VerifyAgent > 0 {
			gs = append(gs[:len(gs):len(gs)], g.verifyCopy())
		}
	}
	for _, g := range gs {
		c, err := g.compile()
		if err != nil {
			return nil, err
		}
		if _, dup := s.grammars[g.Name]; dup {
			return nil, fmt.Errorf("%w: two grammars named %q", ErrGrammar, g.Name)
		}
		s.grammars[g.Name] = c
		for _, w := range c.words {
			words[w] = true
		}
		for _, w := range c.background {
			background[w] = true
		}
	}
	dict, phones, err := writeDict(filepath.Join(cfg.ModelDir, "cmudict-en-us.dict"), words, background)
	if err != nil {
		return nil, err
	}
	s.phones = phones
	defer os.Remove(dict)
	args := append([]string{"-hmm", hmm, "-dict", dict}, cfg.Args...)
	mllr, err := mllrFile(cfg, hmm)
	if err != nil {
		return nil, err
	}
	if mllr != "" {
		defer os.Remove(mllr)
		args = append(args, "-mllr", mllr)
	}
	start := time.Now()
	if s.pool, err = s.loadDecoders(cfg.Decoders, args); err != nil {
		return nil, err
	}
	s.stats.size = cfg.Decoders
	if cfg.RetryDecoders == 0 {
		cfg.RetryDecoders = runtime.NumCPU()
	}
	if cfg.RetryDecoders > 0 {
		wide := append(withoutArgs(args, RetryBeams), RetryBeams...)
		if s.retry, err = s.loadDecoders(cfg.RetryDecoders, wide); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.StreamReserve == 0:
		s.reserve = min(cfg.Decoders/2, runtime.NumCPU())
	case cfg.StreamReserve < 0:
		s.reserve = 0
	default:
		s.reserve = min(cfg.Decoders-1, cfg.StreamReserve)
	}
	s.cmnInit = cfg.CMNInit
	if n := s.all[0].cmnLen(); n == 0 {
		s.cmnInit = nil // -cmn none
	} else if len(s.cmnInit) != n {
		s.Close()
		return nil, fmt.Errorf("%w: CMN init has %d values, the model's features %d", ErrModel, len(s.cmnInit), n)
	}
	s.log.Info("asr: pocketsphinx ready", "model", cfg.ModelDir, "mllr", mllrName(cfg.MLLR), "decoders", cfg.Decoders,
		"retry_decoders", max(0, cfg.RetryDecoders),
		"grammars", len(s.grammars), "words", len(words), "background_words", len(background), "verify_agent", len(gs) > len(cfg.Grammars), "max_acoustic_gap", cfg.MaxAcousticGap,
		"max_agent_gap", cfg.MaxAgentGap, "max_bare_agent_gap", cfg.MaxBareAgentGap,
		"min_phone_frames", cfg.MinPhoneFrames, "took", time.Since(start).Round(time.Millisecond))
	return s, nil
}

// loadDecoders creates n decoders with args as a pool. On an error it
// closes the recognizer.
func (s *Sphinx) loadDecoders(n int, args []string) (chan *sphinx, error) {
	pool := make(chan *sphinx, n)
	for range n {
		d, err := s.newDecoder(args)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.all = append(s.all, d)
		pool <- d
	}
	return pool, nil
}

func (s *Sphinx) newDecoder(args []string) (*sphinx, error) {
	d, err := newSphinx(args, s.cfg.Verbose)
	if err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(s.grammars) {
		if err := d.addJSGF(name, s.grammars[name].jsgf); err != nil {
			d.free()
			return nil, err
		}
	}
	return d, nil
}

// droppedProns are pronunciations of grammar words that the decoders do
// not get. "human" without its h (Y UW M AH N) is rare in American
// English, and "a human please" said that way fit "balance please" as well
// as the words said: the most frequent calm caller handed over in the
// scripted calls (7 of 35, README).
var droppedProns = map[string]bool{"human(2)": true}

// writeDict writes a dictionary holding only the grammars' words (and the
// garbage phones) to a temporary file: decoders load in a fraction of the
// time and memory of the full 130k-word dictionary.
//
// Each background word gets its first pronunciation as a bg_ word. It
// returns the file's path and the number of phones of each entry, as the
// decoder names it ("to(3)" for the third pronunciation of "to").
func writeDict(full string, words, background map[string]bool) (string, map[string]int, error) {
	f, err := os.Open(full)
	if err != nil {
		return "", nil, fmt.Errorf("%w: dictionary: %v", ErrModel, err)
	}
	defer f.Close()
	var b strings.Builder
	found := map[string]bool{}
	phones := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		w, pron, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		base := w
		if i := strings.IndexByte(w, '('); i > 0 {
			base = w[:i]
		}
		if words[base] && !droppedProns[w] {
			found[base] = true
			b.WriteString(line + "\n")
			phones[w] = len(strings.Fields(pron))
		}
		if background[w] { // first pronunciation only: "w", not "w(2)"
			b.WriteString(backgroundPrefix + line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		return "", nil, fmt.Errorf("%w: dictionary: %v", ErrModel, err)
	}
	var missing []string
	for w := range words {
		if strings.HasPrefix(w, garbagePrefix) {
			continue
		}
		if !found[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return "", nil, fmt.Errorf("%w: words not in the dictionary: %s", ErrGrammar, strings.Join(missing, " "))
	}
	for _, p := range garbagePhones {
		fmt.Fprintf(&b, "%s %s\n", garbageWord(p), p)
	}
	path, err := writeTemp("ivr-asr-*.dict", b.String(), "dictionary")
	return path, phones, err
}

// writeTemp writes text to a new temporary file for the decoders to read
// at start-up and returns its path; what names it in an error.
func writeTemp(pattern, text, what string) (string, error) {
	tmp, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrModel, what, err)
	}
	_, err = tmp.WriteString(text)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("%w: %s: %v", ErrModel, what, err)
	}
	return tmp.Name(), nil
}

// Grammars lists the grammar names streams can Listen for.
func (s *Sphinx) Grammars() []string {
	return slices.DeleteFunc(sortedKeys(s.grammars), func(n string) bool { return strings.HasSuffix(n, verifySuffix) })
}

// FrontEndString describes the front-end chain every stream uses.
func (s *Sphinx) FrontEndString() string { return NewFrontEnd(s.cfg.FrontEnd, 0).String() }

// acquire takes a decoder from the pool, waiting if all are in use.
func (s *Sphinx) acquire(ctx context.Context) (*sphinx, time.Duration, error) {
	select {
	case d := <-s.pool:
		s.stats.record(0)
		return d, 0, nil
	default:
	}
	start := time.Now()
	select {
	case d := <-s.pool:
		w := time.Since(start)
		s.stats.record(w)
		return d, w, nil
	case <-ctx.Done():
		return nil, time.Since(start), ctx.Err()
	}
}

// tryAcquire takes a decoder without waiting, and only while more than
// reserve decoders are free: streaming decodes hold a decoder for as long as
// the caller speaks, so part of the pool is kept for the short end-of-speech
// decodes of buffered utterances.
func (s *Sphinx) tryAcquire(reserve int) *sphinx {
	if len(s.pool) <= reserve {
		return nil
	}
	select {
	case d := <-s.pool:
		s.stats.record(0)
		return d
	default:
		return nil
	}
}

// release returns a decoder to the pool.
func (s *Sphinx) release(d *sphinx) {
	d.abort()
	s.pool <- d
}

// acquireRetry takes a wide-beam decoder, waiting for one if all are busy.
// Only streams that keep their audio for a retry call it: the pool exists.
func (s *Sphinx) acquireRetry(ctx context.Context) (*sphinx, error) {
	select {
	case d := <-s.retry:
		s.stats.retried()
		return d, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// releaseRetry returns a wide-beam decoder to its pool.
func (s *Sphinx) releaseRetry(d *sphinx) {
	d.abort()
	s.retry <- d
}

// withoutArgs drops from args the pairs whose names are in pairs' even
// places, so that appending pairs replaces them.
func withoutArgs(args, pairs []string) []string {
	drop := map[string]bool{}
	for i := 0; i < len(pairs); i += 2 {
		drop[pairs[i]] = true
	}
	var out []string
	for i := 0; i < len(args); i++ {
		if drop[args[i]] && i+1 < len(args) {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// Stats reports the decoder pool's use since start.
func (s *Sphinx) Stats() PoolStats { return s.stats.snapshot(len(s.pool)) }

// Close frees the decoders. Streams must be closed first.
func (s *Sphinx) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.wg.Wait()
	for _, d := range s.all {
		d.free()
	}
	return nil
}

// PoolStats describes decoder pool use.
type PoolStats struct {
	// Size is the number of decoders; Free how many are idle now.
	Size, Free int
	// Acquired counts utterances that took a decoder; Waited those that
	// found none free.
	Acquired, Waited int64
	// WaitTotal and WaitMax sum up the time spent waiting.
	WaitTotal, WaitMax time.Duration
	// Retried counts utterances decoded again with wide beams because the
	// first search found no path (SphinxConfig.RetryDecoders).
	Retried int64
}

type poolStats struct {
	mu       sync.Mutex
	size     int
	acquired int64
	waited   int64
	retries  int64
	total    time.Duration
	maxWait  time.Duration
}

func (p *poolStats) record(w time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acquired++
	if w > 0 {
		p.waited++
		p.total += w
		p.maxWait = max(p.maxWait, w)
	}
}

func (p *poolStats) retried() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.retries++
}

func (p *poolStats) snapshot(free int) PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStats{Size: p.size, Free: free, Acquired: p.acquired, Waited: p.waited, WaitTotal: p.total, WaitMax: p.maxWait,
		Retried: p.retries}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}
