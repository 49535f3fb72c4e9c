package softphone

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/sip"
)

func writeScript(t *testing.T, text string) *Script {
	t.Helper()
	path := filepath.Join(t.TempDir(), "call.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := ParseScript(path)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// loudSpan returns the first and last sample above thr in absolute value.
func loudSpan(pcm []int16, thr int16) (int, int) {
	first, last := -1, -1
	for i, v := range pcm {
		if v > thr || v < -thr {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}

func TestCallToneRecordedAndRemoteHangup(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			ctx := timeout(t, 15*time.Second)
			f := &farEnd{Tone: time.Second, ToneAmp: 0.3, HangupAt: 2200 * time.Millisecond}
			target, stop := startFarEnd(t, f)
			defer stop()
			cfg := testConfig(target)
			cfg.Transport = transport
			cfg.Record = filepath.Join(t.TempDir(), "out.wav")
			log := &eventLog{}
			r, err := Dial(ctx, cfg, nil, log)
			if err != nil {
				t.Fatalf("call failed: %v", err)
			}
			if r.HangupBy != "remote" || !r.Answered || r.PacketsReceived < 90 {
				t.Errorf("result %+v", r)
			}
			// sipgo may pass the 200 up before a 180 sent just before it
			// (each response is handled on its own goroutine), so ringing
			// is optional here; TestSetupTimeoutCancels requires it.
			want := []string{EvDialing, EvAnswered, EvAudioStart, EvAudioStop, EvHangup, EvSummary}
			got := slices.DeleteFunc(log.names(0), func(n string) bool { return n == EvRinging })
			if !slices.Equal(got, want) {
				t.Errorf("events %v, want %v", got, want)
			}
			if h := log.find(EvHangup); len(h) != 1 || h[0].By != "remote" {
				t.Errorf("hangup events %+v", h)
			}
			aStop := log.find(EvAudioStop)[0]
			if *aStop.AudioMs < 940 || *aStop.AudioMs > 1120 {
				t.Errorf("audio lasted %.1f ms, want ~1000", *aStop.AudioMs)
			}
			checkToneRecording(t, cfg.Record)
			if cause := <-f.Ended; !errors.Is(cause, sip.ErrLocalHangup) {
				t.Errorf("far end ended with %v", cause)
			}
		})
	}
}

// checkToneRecording checks the WAV holds about 1 s of 440 Hz at -10.5 dBFS.
func checkToneRecording(t *testing.T, path string) {
	t.Helper()
	a, err := media.ReadWAVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 8000 || a.Channels != 1 {
		t.Fatalf("recording is %d Hz %d ch", a.Rate, a.Channels)
	}
	first, last := loudSpan(a.Samples, 1000)
	if first < 0 {
		t.Fatal("recording is silent")
	}
	tone := a.Samples[first : last+1]
	// A late packet can make the jitter buffer insert a silent frame, so
	// allow a little stretch and measure over the loud frames only.
	if d := time.Duration(len(tone)) * time.Second / 8000; d < 980*time.Millisecond || d > 1100*time.Millisecond {
		t.Errorf("tone spans %v in the recording, want 1 s", d)
	}
	crossings, intervals, loud := 0, 0, 0
	var pow float64
	for i := 0; i+media.FrameSamples <= len(tone); i += media.FrameSamples {
		fr := tone[i : i+media.FrameSamples]
		lvl := frameDBFS(fr)
		if lvl < -20 {
			continue
		}
		loud++
		pow += dbToPow(lvl)
		for j := 1; j < len(fr); j++ {
			if (fr[j-1] < 0) != (fr[j] < 0) {
				crossings++
			}
		}
		intervals += len(fr) - 1
	}
	if loud < 45 {
		t.Fatalf("only %d loud frames", loud)
	}
	freq := float64(crossings) / 2 / (float64(intervals) / 8000)
	if math.Abs(freq-440) > 5 {
		t.Errorf("tone at %.1f Hz, want 440", freq)
	}
	if lvl := powToDB(pow / float64(loud)); math.Abs(lvl-20*math.Log10(0.3)) > 0.5 {
		t.Errorf("tone level %.2f dBFS, want %.2f", lvl, 20*math.Log10(0.3))
	}
}

func TestScriptDTMFAndLocalHangup(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	for _, inband := range []bool{false, true} {
		name := map[bool]string{false: "rfc4733", true: "inband"}[inband]
		t.Run(name, func(t *testing.T) {
			ctx := timeout(t, 15*time.Second)
			f := &farEnd{}
			target, stop := startFarEnd(t, f)
			defer stop()
			cfg := testConfig(target)
			cfg.DTMFInband = inband
			log := &eventLog{}
			sc := writeScript(t, "# menu\ndtmf 19*#\nwait 0.1\nhangup\ndtmf 5\n")
			r, err := Dial(ctx, cfg, sc, log)
			if err != nil {
				t.Fatalf("call failed: %v", err)
			}
			if r.HangupBy != "local" || r.HangupReason != "script hangup" || r.StepsDone != 2 {
				t.Errorf("result %+v", r)
			}
			var got []byte
			want := media.DTMFRFC4733
			if inband {
				want = media.DTMFInband
			}
			for len(got) < 4 {
				select {
				case d := <-f.DTMF:
					if d.Source != want {
						t.Errorf("digit %c came by %v", d.Digit, d.Source)
					}
					got = append(got, d.Digit)
				case <-ctx.Done():
					t.Fatalf("far end heard %q", got)
				}
			}
			if string(got) != "19*#" {
				t.Errorf("far end heard %q", got)
			}
			if cause := <-f.Ended; !errors.Is(cause, sip.ErrRemoteHangup) {
				t.Errorf("far end ended with %v, want the caller's BYE", cause)
			}
			sent := log.find(EvDTMFSent)
			if len(sent) != 1 || sent[0].Digits != "19*#" || sent[0].Line != 2 || sent[0].Inband != inband {
				t.Errorf("dtmf_sent events %+v", sent)
			}
			steps := log.find(EvStep)
			if len(steps) != 3 || steps[2].Step != "hangup" || steps[2].Line != 4 {
				t.Errorf("step events %+v", steps)
			}
		})
	}
}

func TestRefused488(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	ctx := timeout(t, 10*time.Second)
	f := &farEnd{Codecs: []string{"PCMA"}}
	target, stop := startFarEnd(t, f)
	defer stop()
	log := &eventLog{}
	r, err := Dial(ctx, testConfig(target), nil, log) // offers PCMU only
	var se *sip.StatusError
	if !errors.As(err, &se) || se.Code != 488 {
		t.Fatalf("err = %v, want 488", err)
	}
	if !strings.HasPrefix(err.Error(), "488 Not Acceptable Here: no supported codec") {
		t.Errorf("reason %q", err)
	}
	if r.Answered || r.Code != 488 {
		t.Errorf("result %+v", r)
	}
	fails := log.find(EvFailed)
	if len(fails) != 1 || fails[0].Code != 488 || !strings.Contains(fails[0].Reason, "Not Acceptable Here") {
		t.Errorf("failed events %+v", fails)
	}
	if got, want := log.names(0), []string{EvDialing, EvFailed, EvSummary}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestNoRTPFromFarEnd(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	ctx := timeout(t, 10*time.Second)
	f := &farEnd{NoRTP: true}
	target, stop := startFarEnd(t, f)
	defer stop()
	cfg := testConfig(target)
	cfg.NoRTPTimeout = 300 * time.Millisecond
	r, err := Dial(ctx, cfg, nil, nil)
	if !errors.Is(err, ErrNoRTP) || !strings.Contains(err.Error(), "within 300ms after answer") {
		t.Fatalf("err = %v, want ErrNoRTP", err)
	}
	if r.HangupBy != "local" || failureKind(err) != ErrNoRTP.Error() {
		t.Errorf("result %+v", r)
	}
	if cause := <-f.Ended; !errors.Is(cause, sip.ErrRemoteHangup) {
		t.Errorf("far end ended with %v, want our BYE", cause)
	}
}

func TestSetupTimeoutCancels(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	ctx := timeout(t, 10*time.Second)
	f := &farEnd{NoAnswer: true}
	target, stop := startFarEnd(t, f)
	defer stop()
	cfg := testConfig(target)
	cfg.SetupTimeout = 300 * time.Millisecond
	log := &eventLog{}
	_, err := Dial(ctx, cfg, nil, log)
	if !errors.Is(err, ErrSetupTimeout) {
		t.Fatalf("err = %v, want ErrSetupTimeout", err)
	}
	if got, want := log.names(0), []string{EvDialing, EvRinging, EvFailed, EvSummary}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if cause := <-f.Ended; !errors.Is(cause, sip.ErrCanceled) {
		t.Errorf("far end ended with %v, want CANCEL", cause)
	}
}

func TestDurationLimit(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	ctx := timeout(t, 10*time.Second)
	f := &farEnd{}
	target, stop := startFarEnd(t, f)
	defer stop()
	cfg := testConfig(target)
	cfg.Duration = 300 * time.Millisecond
	r, err := Dial(ctx, cfg, nil, nil)
	if err != nil || r.HangupBy != "local" || r.HangupReason != "duration reached" {
		t.Fatalf("err %v, result %+v", err, r)
	}
	<-f.Ended
}

func TestResponseTimeAfterPlay(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	ctx := timeout(t, 15*time.Second)
	f := &farEnd{Respond: 400 * time.Millisecond}
	target, stop := startFarEnd(t, f)
	defer stop()
	dir := t.TempDir()
	// 300 ms of 1 kHz as 16 kHz stereo: the script resamples it.
	writeWAV(t, filepath.Join(dir, "say.wav"), resampleTone(1000, 300*time.Millisecond, 16000), 16000, 2)
	script := filepath.Join(dir, "turn.txt")
	if err := os.WriteFile(script, []byte("play say.wav\nwait-silence 5\nhangup\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := ParseScript(script)
	if err != nil {
		t.Fatal(err)
	}
	log := &eventLog{}
	r, err := Dial(ctx, testConfig(target), sc, log)
	if err != nil {
		t.Fatalf("call failed: %v", err)
	}
	if len(r.ResponseMs) != 1 {
		t.Fatalf("response_ms %v, turns %+v", r.ResponseMs, r.Turns)
	}
	// The far end answers 100 ms after our audio ends at its side; our
	// jitter buffers add about 40 ms each way.
	if rt := r.ResponseMs[0]; rt < 100 || rt > 400 {
		t.Errorf("response %.1f ms, want 100-400", rt)
	}
	names := log.names(0)
	iEnd, iStart := slices.Index(names, EvPlayEnd), slices.Index(names, EvAudioStart)
	if iEnd < 0 || iStart < iEnd {
		t.Errorf("events %v: want play_end before audio_start", names)
	}
	start := log.find(EvAudioStart)[0]
	if start.ResponseMs == nil || start.After != "play" {
		t.Errorf("audio_start %+v", start)
	}
	<-f.Ended
}

func resampleTone(freq float64, d time.Duration, rate int) []int16 {
	n := int(d * time.Duration(rate) / time.Second)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(0.3 * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

func TestWaitSilenceTimeout(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	ctx := timeout(t, 10*time.Second)
	f := &farEnd{} // sends only silence
	target, stop := startFarEnd(t, f)
	defer stop()
	sc := writeScript(t, "wait-silence 0.3\nhangup\n")
	r, err := Dial(ctx, testConfig(target), sc, nil)
	if !errors.Is(err, ErrSilenceTimeout) || !strings.Contains(err.Error(), "call.txt:1:") {
		t.Fatalf("err = %v, want ErrSilenceTimeout at line 1", err)
	}
	if r.HangupBy != "local" {
		t.Errorf("result %+v", r)
	}
	<-f.Ended
}

func TestResponseTimeAfterDTMF(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	for _, inband := range []bool{false, true} {
		t.Run(map[bool]string{false: "rfc4733", true: "inband"}[inband], func(t *testing.T) {
			ctx := timeout(t, 15*time.Second)
			f := &farEnd{Respond: 300 * time.Millisecond}
			target, stop := startFarEnd(t, f)
			defer stop()
			cfg := testConfig(target)
			cfg.DTMFInband = inband
			log := &eventLog{}
			r, err := Dial(ctx, cfg, writeScript(t, "dtmf 1#\nwait-silence 5\nhangup\n"), log)
			if err != nil {
				t.Fatalf("call failed: %v", err)
			}
			// The far end answers '#' when it detects it: at the first
			// RFC 4733 packet, or after ~40 ms of tone and its end.
			if len(r.Turns) != 1 || r.Turns[0].After != "dtmf" || r.Turns[0].Line != 1 ||
				r.Turns[0].ResponseMs <= 0 || r.Turns[0].ResponseMs > 400 {
				t.Fatalf("turns %+v", r.Turns)
			}
			if len(r.ResponseMs) != 0 {
				t.Errorf("response_ms %v counts only play turns", r.ResponseMs)
			}
			<-f.Ended
		})
	}
}

func TestSetupTimeoutSilentFarEnd(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	ctx := timeout(t, 10*time.Second)
	hole, err := net.ListenPacket("udp", "127.0.0.1:0") // takes INVITEs, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	cfg := testConfig("sip:ivr@" + hole.LocalAddr().String())
	cfg.SetupTimeout = 200 * time.Millisecond
	t0 := time.Now()
	_, err = Dial(ctx, cfg, nil, nil)
	if !errors.Is(err, ErrSetupTimeout) {
		t.Fatalf("err = %v, want ErrSetupTimeout", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("gave up after %v, want ~200ms", d)
	}
}

func TestBadRecordPathBeforeDialing(t *testing.T) {
	cfg := testConfig("sip:ivr@127.0.0.1:9")
	cfg.Record = filepath.Join(t.TempDir(), "no", "such", "dir.wav")
	log := &eventLog{}
	r, err := Dial(context.Background(), cfg, nil, log)
	if !errors.Is(err, ErrConfig) || r != nil || len(log.names(0)) != 0 {
		t.Fatalf("err %v, result %v, events %v", err, r, log.names(0))
	}
}

func TestAudioStopAtHangupMidAudio(t *testing.T) {
	defer goleak.VerifyNone(t, leakOpts()...)
	ctx := timeout(t, 10*time.Second)
	f := &farEnd{Tone: 5 * time.Second, ToneAmp: 0.3, HangupAt: 500 * time.Millisecond}
	target, stop := startFarEnd(t, f)
	defer stop()
	log := &eventLog{}
	if _, err := Dial(ctx, testConfig(target), nil, log); err != nil {
		t.Fatal(err)
	}
	names := log.names(0)
	if i := slices.Index(names, EvAudioStop); i < 0 || names[i+1] != EvHangup {
		t.Errorf("events %v: want audio_stop just before hangup", names)
	}
	<-f.Ended
}
