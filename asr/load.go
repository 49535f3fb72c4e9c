package asr

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/supportline/ivr/media"
)

// LoadConfig configures a real-time load run.
type LoadConfig struct {
	// Streams is the number of concurrent calls. Default 50.
	Streams int
	// Duration is how long the figures are measured, in real time, once
	// every stream has started. Default 30 s.
	Duration time.Duration
	// Spread staggers the streams' starts evenly over this time, as calls
	// arrive one after another, so that their utterances do not end in
	// step. Default DefaultLoadSpread; negative starts them all at once
	// (the worst case: 50 callers who stop talking in the same 20 ms,
	// clip after clip, since every stream pauses 1 s between clips).
	Spread time.Duration
	// Codec is the G.711 law of the audio. Default media.PCMU.
	Codec media.Codec
	// Stream configures each stream.
	Stream StreamConfig
}

// LoadReport sums up a load run.
type LoadReport struct {
	Streams      int     `json:"streams"`
	DurationSec  float64 `json:"duration_s"`
	SpreadSec    float64 `json:"spread_s"`
	Utterances   int     `json:"utterances"`
	Correct      int     `json:"correct"`
	LateFrames   int     `json:"late_frames"`
	CPUUse       float64 `json:"cpu_cores_used"`
	RTF          float64 `json:"rtf_per_stream"`
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP95MS float64 `json:"latency_p95_ms"`
	LatencyMaxMS float64 `json:"latency_max_ms"`
	WaitP95MS    float64 `json:"decoder_wait_p95_ms"`
	WaitMaxMS    float64 `json:"decoder_wait_max_ms"`
	// LatenciesMS are every counted utterance's end-of-speech → result
	// latency, sorted (scripts/plot-load.py draws them).
	LatenciesMS []float64 `json:"latencies_ms"`
}

// DefaultLoadSpread is the default LoadConfig.Spread: about one clip and
// pause of the CI corpus, so that stream starts cover a whole cycle.
const DefaultLoadSpread = 5 * time.Second

// Load feeds cfg.Streams streams at once, each paced in real time with a
// ticker, with the corpus clips one after another (each stream starting at
// a different clip, the starts spread over cfg.Spread), and measures over
// cfg.Duration after the last start whether recognition keeps up: the
// end-of-speech → result latency includes any backlog, so a recogniser that
// falls behind real time shows it there.
func Load(ctx context.Context, rec Recognizer, dir string, cfg LoadConfig) (*LoadReport, error) {
	clips, err := ReadCorpus(dir)
	if err != nil {
		return nil, err
	}
	if cfg.Streams <= 0 {
		cfg.Streams = 50
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 30 * time.Second
	}
	if cfg.Spread == 0 {
		cfg.Spread = DefaultLoadSpread
	}
	cfg.Spread = max(0, cfg.Spread)
	if cfg.Codec.Encode == nil {
		cfg.Codec = media.PCMU
	}
	audio := make([][]int16, len(clips))
	for i, c := range clips {
		a, err := media.ReadWAVFile(filepath.Join(dir, c.Path))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorpus, c.Path, err)
		}
		audio[i] = cfg.Codec.Decode(nil, cfg.Codec.Encode(nil, a.Mono8k()))
	}
	var (
		mu   sync.Mutex
		rep  = &LoadReport{Streams: cfg.Streams, DurationSec: cfg.Duration.Seconds(), SpreadSec: cfg.Spread.Seconds()}
		lat  []float64
		wait []float64
		wg   sync.WaitGroup
		errc = make(chan error, cfg.Streams)
	)
	ctx, cancel := context.WithTimeout(ctx, cfg.Spread+cfg.Duration)
	defer cancel()
	begin := time.Now()
	measureFrom := begin.Add(cfg.Spread)
	for s := range cfg.Streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := begin.Add(cfg.Spread * time.Duration(s) / time.Duration(cfg.Streams))
			select {
			case <-time.After(time.Until(start)):
			case <-ctx.Done():
				return
			}
			r, err := loadStream(ctx, rec, cfg, clips, audio, s*len(clips)/cfg.Streams, measureFrom)
			if err != nil {
				errc <- err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			rep.Utterances += r.utterances
			rep.Correct += r.correct
			rep.LateFrames += r.late
			lat = append(lat, r.lat...)
			wait = append(wait, r.wait...)
		}()
	}
	select {
	case <-time.After(cfg.Spread):
	case <-ctx.Done():
	}
	cpu0 := cpuTime()
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	cpu := (cpuTime() - cpu0).Seconds()
	rep.CPUUse = cpu / cfg.Duration.Seconds()
	rep.RTF = cpu / (cfg.Duration.Seconds() * float64(cfg.Streams))
	rep.LatencyP50MS = percentile(lat, 50)
	rep.LatencyP95MS = percentile(lat, 95)
	rep.LatencyMaxMS = percentile(lat, 100)
	rep.WaitP95MS = percentile(wait, 95)
	rep.WaitMaxMS = percentile(wait, 100)
	slices.Sort(lat)
	rep.LatenciesMS = lat
	return rep, nil
}

type loadResult struct {
	utterances, correct, late int
	lat, wait                 []float64
}

// loadStream is one simulated call: clips in turn, one frame per tick.
// Results before measureFrom are not counted.
func loadStream(ctx context.Context, rec Recognizer, cfg LoadConfig, clips []CorpusClip, audio [][]int16, first int, measureFrom time.Time) (loadResult, error) {
	var res loadResult
	sc := cfg.Stream
	st, err := rec.NewStream(ctx, sc)
	if err != nil {
		return res, err
	}
	expect := make(chan string, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		want := ""
		for e := range st.Events() {
			switch e.Type {
			case EventSpeechStart:
				select {
				case want = <-expect:
				default:
				}
			case EventFinal, EventNoMatch:
				if time.Now().Before(measureFrom) {
					continue
				}
				res.utterances++
				got := e.Intent
				if e.Type == EventNoMatch {
					got = IntentNone
				}
				if got == want {
					res.correct++
				}
				res.lat = append(res.lat, float64(e.Latency.Microseconds())/1000)
				res.wait = append(res.wait, float64(e.DecoderWait.Microseconds())/1000)
			}
		}
	}()
	tick := time.NewTicker(frameDur)
	defer tick.Stop()
	frame := make([]int16, media.FrameSamples)
	gap := int(time.Second / frameDur)
	for k := first; ; k++ {
		i := k % len(clips)
		if err := st.Listen(clips[i].Step); err != nil {
			st.Close()
			return res, err
		}
		select {
		case expect <- clips[i].Intent:
		default:
		}
		pcm := audio[i]
		n := (len(pcm)+media.FrameSamples-1)/media.FrameSamples + gap
		for j := 0; j < n; j++ {
			select {
			case <-ctx.Done():
				st.Close()
				<-done
				return res, nil
			case <-tick.C:
			}
			clear(frame)
			if off := j * media.FrameSamples; off < len(pcm) {
				copy(frame, pcm[off:min(len(pcm), off+media.FrameSamples)])
			}
			t0 := time.Now()
			if err := st.WriteSample(frame); err != nil {
				st.Close()
				<-done
				return res, nil
			}
			if time.Since(t0) > frameDur && t0.After(measureFrom) {
				res.late++
			}
		}
	}
}
