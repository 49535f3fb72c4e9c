package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supportline/ivr/media"
	"github.com/supportline/ivr/softphone"
	"github.com/supportline/ivr/store"
)

// The test card entry of the PCI test and what must be found nowhere.
const (
	pciPIN    = "2468" // demo account 10001
	pciCard   = "4111111111111111"
	pciExpiry = "1230"
	pciCVV    = "737"
)

// helperArgsEnv carries `ivr serve` arguments to TestServeHelperProcess.
const helperArgsEnv = "IVR_TEST_SERVE_ARGS"

// TestServeHelperProcess is not a test: TestRecordedCardPayment runs this
// test binary again with only this test and helperArgsEnv set, so that
// `ivr serve` runs in a process of its own whose whole log (stderr,
// sipgo's included) the test reads.
func TestServeHelperProcess(t *testing.T) {
	args := os.Getenv(helperArgsEnv)
	if args == "" {
		t.Skip("the helper process of TestRecordedCardPayment")
	}
	var out bytes.Buffer
	err := ivrApp(&out).Run(append([]string{"ivr"}, strings.Split(args, "\x1f")...))
	os.Stdout.Write(out.Bytes())
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serveProcess runs `ivr serve args...` in a child process; stop sends it
// SIGINT and returns its stderr (the log).
func serveProcess(t *testing.T, sipAddr string, args ...string) (stop func() string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeHelperProcess$")
	cmd.Env = append(os.Environ(), helperArgsEnv+"="+strings.Join(append([]string{"serve"}, args...), "\x1f"))
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	var log string
	stop = func() string {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
				t.Error("serve did not stop on SIGINT")
			}
			log = stderr.String()
		})
		return log
	}
	t.Cleanup(func() { stop() })
	for deadline := time.Now().Add(90 * time.Second); ; { // prompt decoding under -race is slow
		if c, err := net.Dial("tcp", sipAddr); err == nil {
			c.Close()
			return stop
		}
		select {
		case err := <-exited:
			t.Fatalf("serve ended: %v\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond): // bounded poll for the listener
		}
		if time.Now().After(deadline) {
			t.Fatal("serve is not listening")
		}
	}
}

// pciScript pays the next installment with a keyed card, as a caller who
// waits for each question (keys barge in on the prompts).
const pciScript = `wait-silence 40
dtmf ` + pciPIN + `#
wait 1.5
dtmf 3
wait 1
dtmf 1
wait 1.5
dtmf 3
wait 1
dtmf ` + pciCard + `#
wait 1
dtmf ` + pciExpiry + `
wait 1
dtmf ` + pciCVV + `#
wait 2
dtmf 1
wait-silence 30
hangup
`

// hangupScript hangs up halfway through the card number.
const hangupScript = `wait-silence 40
dtmf ` + pciPIN + `#
wait 1.5
dtmf 3
wait 1
dtmf 1
wait 1.5
dtmf 3
wait 1
dtmf 41111111
hangup
`

func placeCall(t *testing.T, sipAddr, script string, inband bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "call.txt")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := softphone.ParseScript(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := softphone.Dial(ctx, softphone.Config{Target: "sip:ivr@" + sipAddr, From: "+15550100",
		RTPLow: 47000, RTPHigh: 47998, DTMFInband: inband}, sc, nil); err != nil {
		t.Fatalf("call (inband %v): %v", inband, err)
	}
}

// TestRecordedCardPayment is the PCI window end to end: `ivr serve
// --record-calls` at debug level; the demo caller pays with a keyed test
// card, once with RFC 4733 events and once with in-band tones, and a third
// call hangs up in the middle of the card number. Then the recordings are
// searched with the in-band DTMF detector on both channels, and the call
// records, the payments and the server's whole log for the digits.
func TestRecordedCardPayment(t *testing.T) {
	if testing.Short() {
		t.Skip("three calls of about 25 s")
	}
	dir := t.TempDir()
	sipAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	httpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	stop := serveProcess(t, sipAddr, "--data-dir", dir, "--demo-accounts", "--asr=false", "--record-calls",
		"--sip-addr", sipAddr, "--http-addr", httpAddr, "--rtp-ports", "46000-46998", "--ring-time", "0",
		"--log-level", "debug", "--log-format", "json")
	placeCall(t, sipAddr, pciScript, false)
	placeCall(t, sipAddr, hangupScript, false)
	placeCall(t, sipAddr, pciScript, true)
	recs := waitRecords(t, dir, 3)
	checkMetricLabels(t, httpAddr)
	log := stop()

	// Newest first: in-band, the hang-up, RFC 4733. The in-band call is
	// checked in full only when its keys arrived as they were sent: on a
	// loaded 2-core machine a stalled pacing loop can split or drop a tone
	// (the sender skips frames after a 60 ms stall), and then the script's
	// keys go astray (a missed 3 leaves the caller at the confirmation).
	// The PCI checks hold either way.
	asSent := slices.Equal(recs[0].DTMF, []string{"****#", "3", "1", "3", "****************#", "****", "***#", "1"})
	if !asSent {
		t.Logf("in-band keys not all heard as sent (tone split or lost): %v", recs[0].DTMF)
	}
	for i, rec := range recs {
		cc := callCheck{inband: i == 0, hungUp: i == 1, strict: i > 0 || asSent}
		t.Run(fmt.Sprintf("inband=%v hangup=%v", cc.inband, cc.hungUp), func(t *testing.T) {
			checkRecording(t, dir, &rec, cc)
		})
	}
	if !checkPayments(t, dir, asSent) {
		for i := range recs {
			dumpRecord(t, &recs[i])
		}
	}
	// The test's data dir has random digits in its name: not an entry.
	raw, _ := json.Marshal(recs)
	searchDigits(t, "call records", strings.ReplaceAll(string(raw), dir, "DATA"), recordText(recs))
	checkLog(t, strings.ReplaceAll(log, dir, "DATA"), recs, asSent, confirmations(t, dir))
}

// waitRecords waits for n ended calls that list their recording (newest
// first).
func waitRecords(t *testing.T, dir string, n int) []store.CallRecord {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; {
		var out bytes.Buffer
		if err := ivrApp(&out).Run([]string{"ivr", "calls", "list", "--json", "--data-dir", dir}); err != nil {
			t.Fatalf("calls list: %v", err)
		}
		var recs []store.CallRecord
		if err := json.Unmarshal(out.Bytes(), &recs); err != nil {
			t.Fatalf("calls list --json %q: %v", out.String(), err)
		}
		done := len(recs) == n
		for _, r := range recs {
			done = done && !r.End.IsZero() && r.Recording != ""
		}
		if done {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d ended, recorded calls: %s", n, out.String())
		}
		<-time.After(100 * time.Millisecond) // bounded poll
	}
}

// keyAt is a key tone the detector found in a recording channel: from at,
// for dur.
type keyAt struct {
	digit   byte
	at, dur time.Duration
}

// detect runs the in-band DTMF detector over one channel, its clock the
// recording's time.
func detect(pcm []int16) []keyAt {
	var end time.Duration // audio time at the end of the frame in the detector
	base := time.Unix(0, 0)
	d := media.NewDTMFDetector(media.WithDTMFClock(func() time.Time { return base.Add(end) }))
	var out []keyAt
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		end = time.Duration(i+media.FrameSamples) * time.Second / media.SampleRate
		for _, k := range d.Process(pcm[i : i+media.FrameSamples]) {
			out = append(out, keyAt{k.Digit, k.At.Sub(base), k.Duration})
		}
	}
	return out
}

func digits(ks []keyAt) string {
	var b strings.Builder
	for _, k := range ks {
		b.WriteByte(k.digit)
	}
	return b.String()
}

// checkRecording reads a call's recording: stereo 8 kHz; both channels
// exactly silent inside the paused windows; no key tone anywhere but the
// caller's non-secret keys; our audio outside the windows.
// callCheck says what a call of the test did.
type callCheck struct {
	inband, hungUp bool
	strict         bool // its keys were heard as sent
}

func checkRecording(t *testing.T, dir string, rec *store.CallRecord, cc callCheck) {
	if !strings.HasPrefix(rec.Recording, filepath.Join(dir, "recordings")+"/") {
		t.Errorf("recording %q not under the data dir", rec.Recording)
	}
	st, err := os.Stat(rec.Recording)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("recording file: %v %v", st, err)
	}
	a, err := media.ReadWAVFile(rec.Recording)
	if err != nil || a.Channels != 2 || a.Rate != media.SampleRate {
		t.Fatalf("recording: %+v %v", a, err)
	}
	var left, right []int16
	for i := 0; i+1 < len(a.Samples); i += 2 {
		left, right = append(left, a.Samples[i]), append(right, a.Samples[i+1])
	}
	length := time.Duration(len(left)) * time.Second / media.SampleRate
	if d := length - rec.RecordingLength; d < -time.Second || d > time.Second || length < 5*time.Second {
		t.Errorf("recording holds %v, the record says %v", length, rec.RecordingLength)
	}
	wantWindows := 2 // the welcome to the PIN, the card
	if cc.strict && (len(rec.RecordingPaused) != wantWindows || rec.RecordingPaused[0].Start > time.Second) || t.Failed() {
		t.Errorf("paused windows %v, want %d", rec.RecordingPaused, wantWindows)
		dumpRecord(t, rec)
	}
	var outside float64
	for i := range left {
		at := time.Duration(i) * time.Second / media.SampleRate
		in := false
		for _, w := range rec.RecordingPaused {
			// Each channel's frames sit on the timeline within a frame of
			// when they were captured (up to 3 behind after a late tick),
			// so the audio captured just before and after a window may
			// reach this far into it.
			if at >= w.Start+2*media.FrameDuration && at < w.End-4*media.FrameDuration {
				in = true
			}
		}
		if in && (left[i] != 0 || right[i] != 0) {
			t.Fatalf("sample at %v inside a paused window is not silence", at)
		}
		if !in {
			outside += float64(right[i]) * float64(right[i])
		}
	}
	if outside == 0 {
		t.Error("no audio of ours outside the paused windows")
	}
	lk, rk := detect(left), detect(right)
	for _, k := range append(lk, rk...) {
		// The tone must not overlap a window (the key that opens the card
		// window ends just before it: the bot hears it at its end).
		for _, w := range rec.RecordingPaused {
			if k.at < w.End-4*media.FrameDuration && k.at+k.dur > w.Start+2*media.FrameDuration {
				t.Errorf("key tone %q at %v for %v in the paused window %v", k.digit, k.at, k.dur, w)
			}
		}
	}
	// The caller's keys outside the windows are there: menu 3 (pay), 1
	// (next installment), 3 (another card), then 1 (confirm).
	if want := "3131"; cc.inband && cc.strict && digits(lk) != want || !cc.inband && len(lk) > 0 {
		t.Errorf("caller channel keys %q at %v, want %q first (RFC 4733: none)", digits(lk), lk, want)
	}
	if len(rk) > 0 {
		t.Errorf("our channel has key tones %v", rk)
	}
	t.Logf("%v recorded, paused %v, caller keys %q", length, rec.RecordingPaused, digits(lk))
}

// checkPayments: two payments with the keyed card's last four, nothing
// more of it in the store file.
func checkPayments(t *testing.T, dir string, inbandAsSent bool) bool {
	_, ps, err := testAccount(t, dir)
	want := 1
	if inbandAsSent {
		want = 2
	}
	if err != nil || len(ps) < want {
		t.Errorf("payments %+v %v, want %d", ps, err, want)
		return false
	}
	ok := true
	for _, p := range ps[len(ps)-want:] {
		if p.CardLast4 != "1111" {
			t.Errorf("payment %+v, want the keyed card's last four", p)
			ok = false
		}
	}
	for _, name := range []string{"ivr.db", "ivr.db-wal"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		for _, s := range []string{pciCard, pciCard[:12], "411111"} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%q in the store file %s", s, name)
			}
		}
	}
	return ok
}

// recordText is what people read in the records: transcripts, keys,
// intents, handover details.
func recordText(recs []store.CallRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.DTMF...)
		out = append(out, r.Intents...)
		for _, tu := range r.Transcript {
			out = append(out, tu.Text)
		}
		if r.Handover != nil {
			out = append(out, r.Handover.Detail)
		}
	}
	return out
}

// searchDigits looks for the card, PIN, expiry and code: the long digit
// strings anywhere in raw; in texts, any digit run that is or holds one
// of the short ones (a run that merely contains "4111", such as a port,
// does not count unless it is 6 digits or longer).
func searchDigits(t *testing.T, where, raw string, texts []string) {
	t.Helper()
	for _, s := range []string{pciCard, pciCard[:12], "411111"} {
		if strings.Contains(raw, s) {
			t.Errorf("%q found in %s", s, where)
		}
	}
	short := []string{pciPIN, "4111", pciExpiry, pciCVV}
	for _, text := range texts {
		for _, run := range digitRuns(text) {
			for _, s := range short {
				if run == s || len(run) >= 6 && strings.Contains(run, s) {
					t.Errorf("%q found in %s: %q", s, where, text)
				}
			}
		}
	}
}

func digitRuns(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}

// checkLog searches the server's whole debug log. Times, numbers and
// addresses are not digit entries; every other string value is searched.
func checkLog(t *testing.T, log string, recs []store.CallRecord, inbandAsSent bool, confirmed map[string]bool) {
	t.Helper()
	var texts []string
	lines, closed := 0, map[any]int{}
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			texts = append(texts, sc.Text()) // not slog's: search it whole
			continue
		}
		lines++
		if m["msg"] == "bot: sensitive window closed" {
			closed[m["call_id"]]++
		}
		for k, v := range m {
			s, ok := v.(string)
			if !ok || k == "time" || net.ParseIP(hostOf(s)) != nil || generatedID(k, s, confirmed) {
				continue
			}
			texts = append(texts, s)
		}
	}
	searchDigits(t, "the server log", log, texts)
	if !strings.Contains(log, `"level":"DEBUG"`) || lines < 50 {
		t.Errorf("log of %d lines: not the debug log of three calls", lines)
	}
	// Every call closed its PIN window and its card window, the call hung
	// up in the middle of the card number too.
	for i, r := range recs {
		if (i > 0 || inbandAsSent) && closed[r.ID] != 2 {
			t.Errorf("call %s closed %d sensitive windows, want 2", r.ID, closed[r.ID])
		}
	}
}

// hostOf is the host of "host:port", or s.
func hostOf(s string) string {
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return s
}

// dumpRecord logs a call's keys and transcript, to see where it went.
func dumpRecord(t *testing.T, r *store.CallRecord) {
	t.Logf("call %s: %s, keys %v", r.ID, r.Outcome, r.DTMF)
	for _, tu := range r.Transcript {
		t.Logf("  %8v %-6s %s", tu.At.Round(10*time.Millisecond), tu.Who, tu.Text)
	}
}

// checkMetricLabels searches the label values of /metrics (sample values
// are counts and may hold any digits) for the card, PIN, expiry and code.
func checkMetricLabels(t *testing.T, httpAddr string) {
	t.Helper()
	res, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("ivr_calls_total")) {
		t.Fatalf("GET /metrics: %d %v", res.StatusCode, err)
	}
	var labels []string
	for _, line := range strings.Split(string(body), "\n") {
		open, end := strings.IndexByte(line, '{'), strings.LastIndexByte(line, '}')
		if strings.HasPrefix(line, "#") || open < 0 || end < open {
			continue
		}
		for _, kv := range strings.Split(line[open+1:end], ",") {
			if _, v, ok := strings.Cut(kv, "="); ok {
				labels = append(labels, strings.Trim(v, `"`))
			}
		}
	}
	if len(labels) == 0 {
		t.Fatal("/metrics has no labelled samples")
	}
	searchDigits(t, "/metrics labels", strings.Join(labels, " "), labels)
}

// generatedID reports whether a log value is a random identifier — a
// Call-ID, a Via branch or transaction key (RFC 3261's "z9hG4bK" cookie),
// or the 8 random digits the store drew as a payment's confirmation code
// (one of confirmed, read from the store) — whose digits may hold "737" as
// a run by chance ("z9hG4bK.0h737Eq…" failed a CI run, confirmation
// "63673780" a local one). The long digit strings are still searched in
// them with the whole log.
func generatedID(key, s string, confirmed map[string]bool) bool {
	return key == "call_id" || key == "confirmation" && confirmed[s] || strings.Contains(s, "z9hG4bK")
}

// testAccount reads the test account (10001) and its payments, newest
// first, from the store in dir.
func testAccount(t *testing.T, dir string) (*store.Account, []store.Payment, error) {
	t.Helper()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, err := st.AccountByNumber(context.Background(), "10001")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := st.Payments(context.Background(), acct.ID, 10)
	return acct, ps, err
}

// confirmations are the confirmation codes of the test account's payments.
func confirmations(t *testing.T, dir string) map[string]bool {
	t.Helper()
	_, ps, err := testAccount(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, p := range ps {
		out[p.Confirmation] = true
	}
	return out
}
