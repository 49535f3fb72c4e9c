package asr

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/supportline/ivr/media"
)

// CorpusClip is one line of a corpus.tsv: path step intent text.
type CorpusClip struct {
	Path   string // WAV path relative to the corpus directory
	Step   string // grammar name
	Intent string // expected intent; IntentNone for out-of-grammar audio
	Text   string // expected words
}

// ReadCorpus reads DIR/corpus.tsv: tab-separated, with the header line
// "path step intent text".
func ReadCorpus(dir string) ([]CorpusClip, error) {
	f, err := os.Open(filepath.Join(dir, "corpus.tsv"))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorpus, err)
	}
	defer f.Close()
	var clips []CorpusClip
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			if strings.Join(strings.Fields(t), " ") != "path step intent text" {
				return nil, fmt.Errorf("%w: corpus.tsv header is %q, want \"path\\tstep\\tintent\\ttext\"", ErrCorpus, t)
			}
			continue
		}
		if strings.TrimSpace(t) == "" {
			continue
		}
		p := strings.Split(t, "\t")
		if len(p) < 3 || len(p) > 4 {
			return nil, fmt.Errorf("%w: corpus.tsv line %d: %d fields", ErrCorpus, line, len(p))
		}
		c := CorpusClip{Path: p[0], Step: p[1], Intent: p[2]}
		if len(p) == 4 {
			c.Text = strings.Join(strings.Fields(strings.ToLower(p[3])), " ")
		}
		clips = append(clips, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorpus, err)
	}
	if len(clips) == 0 {
		return nil, fmt.Errorf("%w: corpus.tsv has no clips", ErrCorpus)
	}
	return clips, nil
}

// EvalConfig configures a corpus run.
type EvalConfig struct {
	// Codec is the G.711 law every clip goes through. Default media.PCMU.
	Codec media.Codec
	// Stream configures each clip's stream, as a call's would be.
	Stream StreamConfig
	// Concurrency is how many clips run at once. Default 1.
	Concurrency int
	// Progress, if set, is called after each clip (from one goroutine at a time).
	Progress func(done, total int, r ClipResult)
}

// ClipResult is what one clip gave.
type ClipResult struct {
	Path        string  `json:"path"`
	Step        string  `json:"step"`
	Intent      string  `json:"intent"`
	GotIntent   string  `json:"got_intent"`
	Text        string  `json:"text"`
	GotText     string  `json:"got_text"`
	Value       string  `json:"value,omitempty"`
	Confidence  float64 `json:"confidence"`
	Gap         float64 `json:"acoustic_gap"`
	PhoneFrames float64 `json:"phone_frames"`
	LatencyMS   float64 `json:"latency_ms"`
	WaitMS      float64 `json:"decoder_wait_ms"`
	AudioSec    float64 `json:"audio_s"`
	Error       string  `json:"error,omitempty"`
	// Retried says the result came from the wide-beam retry.
	Retried bool `json:"retried,omitempty"`
	// Words is the best path with per-word acoustic scores.
	Words []WordScore `json:"words,omitempty"`
}

// Report sums up a corpus run. Rates are fractions in [0, 1].
type Report struct {
	Clips            int          `json:"n_clips"`
	InGrammar        int          `json:"n_in_grammar"`
	OutOfGrammar     int          `json:"n_out_of_grammar"`
	ExactAccuracy    float64      `json:"exact_accuracy"`
	IntentAccuracy   float64      `json:"intent_accuracy"`
	WER              float64      `json:"wer"`
	FalseAcceptRate  float64      `json:"false_accept_rate"`
	RTF              float64      `json:"rtf"`
	WallRTF          float64      `json:"wall_rtf"`
	LatencyP50MS     float64      `json:"latency_p50_ms"`
	LatencyP95MS     float64      `json:"latency_p95_ms"`
	DecoderWaitP95MS float64      `json:"decoder_wait_p95_ms"`
	Concurrency      int          `json:"concurrency"`
	Results          []ClipResult `json:"clips"`
}

// tailSilence is fed after each clip so the endpointer can close the last
// utterance as it would on a call.
const tailSilence = 1500 * time.Millisecond

// Eval runs every clip of a corpus through rec the way a call's audio goes:
// G.711 encode and decode, 20 ms frames into a stream (front-end, VAD,
// decoder), and compares the results with the corpus.
func Eval(ctx context.Context, rec Recognizer, dir string, cfg EvalConfig) (*Report, error) {
	clips, err := ReadCorpus(dir)
	if err != nil {
		return nil, err
	}
	if cfg.Codec.Encode == nil {
		cfg.Codec = media.PCMU
	}
	cfg.Concurrency = max(1, cfg.Concurrency)
	// Load every clip first so that a bad file fails the run before it starts.
	audio := make([][]int16, len(clips))
	for i, c := range clips {
		a, err := media.ReadWAVFile(filepath.Join(dir, c.Path))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorpus, c.Path, err)
		}
		audio[i] = cfg.Codec.Decode(nil, cfg.Codec.Encode(nil, a.Mono8k()))
	}
	results := make([]ClipResult, len(clips))
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
		errs = make(chan error, 1)
	)
	next := make(chan int)
	cpu0, wall0 := cpuTime(), time.Now()
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := evalClip(ctx, rec, cfg, clips[i], audio[i])
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				mu.Lock()
				results[i] = r
				done++
				if cfg.Progress != nil {
					cfg.Progress(done, len(clips), r)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range clips {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		case err := <-errs:
			errs <- err
			break feed
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := summarise(results, cfg.Concurrency)
	var audioSec float64
	for _, r := range results {
		audioSec += r.AudioSec
	}
	if audioSec > 0 {
		rep.RTF = (cpuTime() - cpu0).Seconds() / audioSec
		rep.WallRTF = time.Since(wall0).Seconds() * float64(cfg.Concurrency) / audioSec
	}
	return rep, nil
}

// evalClip feeds one clip (plus tail silence) and waits for its result.
func evalClip(ctx context.Context, rec Recognizer, cfg EvalConfig, c CorpusClip, pcm []int16) (ClipResult, error) {
	r := ClipResult{Path: c.Path, Step: c.Step, Intent: c.Intent, Text: c.Text, GotIntent: IntentNone}
	sc := cfg.Stream
	sc.Grammar = c.Step
	if sc.QueueFrames == 0 {
		sc.QueueFrames = 1 // writer at most one frame ahead: latency is not inflated by a backlog
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := rec.NewStream(ctx, sc)
	if err != nil {
		return r, fmt.Errorf("%s: %w", c.Path, err)
	}
	defer st.Close()
	got := make(chan Event, 1)
	go func() {
		var res *Event
		for e := range st.Events() {
			if res == nil && (e.Type == EventFinal || e.Type == EventNoMatch || e.Type == EventError) {
				res = &e
			}
		}
		if res != nil {
			got <- *res
		}
		close(got)
	}()
	silence := cfg.Codec.Decode(nil, cfg.Codec.Encode(nil, make([]int16, media.FrameSamples)))
	n := (len(pcm) + media.FrameSamples - 1) / media.FrameSamples
	tail := int(tailSilence / frameDur)
	frame := make([]int16, media.FrameSamples)
	for i := 0; i < n+tail; i++ {
		if i < n {
			clear(frame)
			copy(frame, pcm[i*media.FrameSamples:min(len(pcm), (i+1)*media.FrameSamples)])
		} else {
			copy(frame, silence)
		}
		if err := st.WriteSample(frame); err != nil {
			return r, fmt.Errorf("%s: %w", c.Path, err)
		}
	}
	r.AudioSec = float64(n+tail) * frameDur.Seconds()
	st.Close()
	if e, ok := <-got; ok {
		r.GotText, r.Confidence, r.Value, r.Gap, r.PhoneFrames, r.Words, r.Retried = e.Text, e.Confidence, e.Value, e.AcousticGap, e.PhoneFrames, e.Words, e.Retried
		r.LatencyMS = float64(e.Latency.Microseconds()) / 1000
		r.WaitMS = float64(e.DecoderWait.Microseconds()) / 1000
		switch e.Type {
		case EventFinal:
			r.GotIntent = e.Intent
		case EventError:
			r.Error = e.Err.Error()
		}
	}
	return r, nil
}

func summarise(rs []ClipResult, conc int) *Report {
	rep := &Report{Clips: len(rs), Results: rs, Concurrency: conc}
	var exact, intent, fa, errWords, refWords int
	var lat, wait []float64
	for _, r := range rs {
		if r.LatencyMS > 0 {
			lat = append(lat, r.LatencyMS)
			wait = append(wait, r.WaitMS)
		}
		if r.Intent == IntentNone {
			rep.OutOfGrammar++
			if r.GotIntent != IntentNone {
				fa++
			}
			continue
		}
		rep.InGrammar++
		if r.GotText == r.Text {
			exact++
		}
		if r.GotIntent == r.Intent {
			intent++
		}
		ref := strings.Fields(r.Text)
		errWords += editDistance(ref, strings.Fields(r.GotText))
		refWords += len(ref)
	}
	if rep.InGrammar > 0 {
		rep.ExactAccuracy = float64(exact) / float64(rep.InGrammar)
		rep.IntentAccuracy = float64(intent) / float64(rep.InGrammar)
	}
	if refWords > 0 {
		rep.WER = float64(errWords) / float64(refWords)
	}
	if rep.OutOfGrammar > 0 {
		rep.FalseAcceptRate = float64(fa) / float64(rep.OutOfGrammar)
	}
	rep.LatencyP50MS = percentile(lat, 50)
	rep.LatencyP95MS = percentile(lat, 95)
	rep.DecoderWaitP95MS = percentile(wait, 95)
	return rep
}

// editDistance is the word-level Levenshtein distance.
func editDistance(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// percentile is the nearest-rank p-th percentile of xs (0 if empty).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(len(s)-1, k))]
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
