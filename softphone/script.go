package softphone

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/supportline/ivr/media"
)

// StepKind is what a script step does.
type StepKind uint8

// The script steps.
const (
	StepPlay        StepKind = iota + 1 // play FILE.wav
	StepDTMF                            // dtmf DIGITS
	StepWait                            // wait SECONDS
	StepWaitSilence                     // wait-silence [TIMEOUT]
	StepHangup                          // hangup
)

// String returns the step's keyword.
func (k StepKind) String() string {
	switch k {
	case StepPlay:
		return "play"
	case StepDTMF:
		return "dtmf"
	case StepWait:
		return "wait"
	case StepWaitSilence:
		return "wait-silence"
	case StepHangup:
		return "hangup"
	}
	return "unknown"
}

// DefaultSilenceTimeout is how long a wait-silence step waits when the
// script gives no time-out.
const DefaultSilenceTimeout = 30 * time.Second

// Step is one line of a script.
type Step struct {
	Line     int    // 1-based line in the script file
	Text     string // the line as written, trimmed
	Kind     StepKind
	Path     string        // play: the WAV file, resolved against the script's directory
	Audio    []int16       // play: the file as 8 kHz mono PCM (shared read-only by all calls)
	Digits   string        // dtmf: the digits, upper-cased
	Duration time.Duration // wait: how long; wait-silence: the time-out
}

// Script is a parsed call script: the steps one call runs in order.
type Script struct {
	Name  string // the file it came from
	Steps []Step
}

// ParseScript reads and checks a script file. Every play step's WAV is read
// and converted now, so a bad file is an error before anything is dialed.
// Errors wrap ErrScript and name the file and line.
func ParseScript(path string) (*Script, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScript, err)
	}
	defer f.Close()
	return parseScript(f, path, filepath.Dir(path))
}

// parseScript parses a script read from r; name is used in errors and dir
// resolves relative play paths.
func parseScript(r io.Reader, name, dir string) (*Script, error) {
	sc := &Script{Name: name}
	wavs := map[string][]int16{}
	lines := bufio.NewScanner(r)
	for n := 1; lines.Scan(); n++ {
		text := strings.TrimSpace(lines.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		st, err := parseStep(text, dir, wavs)
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %w", ErrScript, name, n, err)
		}
		st.Line = n
		sc.Steps = append(sc.Steps, st)
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrScript, name, err)
	}
	return sc, nil
}

func parseStep(text, dir string, wavs map[string][]int16) (Step, error) {
	word, arg, _ := strings.Cut(text, " ")
	arg = strings.TrimSpace(arg)
	st := Step{Text: text}
	switch strings.ToLower(word) {
	case "play":
		st.Kind = StepPlay
		return st, parsePlay(&st, arg, dir, wavs)
	case "dtmf":
		st.Kind = StepDTMF
		st.Digits = strings.ToUpper(arg)
		return st, checkDigits(arg)
	case "wait":
		st.Kind = StepWait
		d, err := parseSeconds(arg)
		st.Duration = d
		return st, err
	case "wait-silence":
		st.Kind, st.Duration = StepWaitSilence, DefaultSilenceTimeout
		if arg == "" {
			return st, nil
		}
		d, err := parseSeconds(arg)
		st.Duration = d
		return st, err
	case "hangup":
		st.Kind = StepHangup
		if arg != "" {
			return st, fmt.Errorf("hangup takes no argument, got %q", arg)
		}
		return st, nil
	}
	return st, fmt.Errorf("unknown step %q (want play, dtmf, wait, wait-silence or hangup)", word)
}

func parsePlay(st *Step, arg, dir string, wavs map[string][]int16) error {
	if arg == "" {
		return fmt.Errorf("play needs a WAV file")
	}
	path := arg
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	st.Path = path
	if pcm, ok := wavs[path]; ok {
		st.Audio = pcm
		return nil
	}
	a, err := media.ReadWAVFile(path)
	if err != nil {
		return fmt.Errorf("play %s: %w", arg, err)
	}
	st.Audio = a.Mono8k()
	if len(st.Audio) == 0 {
		return fmt.Errorf("play %s: no audio in file", arg)
	}
	wavs[path] = st.Audio
	return nil
}

func checkDigits(digits string) error {
	if digits == "" {
		return fmt.Errorf("dtmf needs digits")
	}
	for i := range len(digits) {
		if !media.ValidDigit(strings.ToUpper(digits[i : i+1])[0]) {
			return fmt.Errorf("dtmf: %q is not a DTMF digit (0-9, *, #, A-D)", digits[i])
		}
	}
	return nil
}

// parseSeconds reads a positive number of seconds ("2", "0.5") or a Go
// duration ("1500ms").
func parseSeconds(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("missing number of seconds")
	}
	var d time.Duration
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) || v > 24*3600 {
			return 0, fmt.Errorf("bad number of seconds %q", s)
		}
		d = time.Duration(v * float64(time.Second))
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("bad number of seconds %q", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("seconds must be positive, got %q", s)
	}
	return d, nil
}
