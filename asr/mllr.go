package asr

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The en-us model is trained on wide-band speech; the phone channel (8 kHz
// G.711, then the front-end's upsampling and band fill) shifts every
// Gaussian it scores. asr/phone.mllr is a global MLLR transform of the
// model's means to that channel, estimated by scripts/gen-mllr.sh from about
// 50 s of real recorded speech (never the espeak corpus the recognizer is
// measured on) sent through `ivr asr hear`. On two held-out corpora it moved
// intent accuracy 85.5 -> 90.9 % and 80.6 -> 89.8 % at the same CPU (README).

//go:embed phone.mllr
var phoneMLLR string

// MLLRNone turns the transform off (SphinxConfig.MLLR).
const MLLRNone = "none"

// mllrFile checks the configured transform against the model's features
// and writes it to a temporary file for the decoders' -mllr, returning ""
// for none. The caller removes the file once the decoders have read it, so
// they load exactly the text that was checked. A transform whose streams do
// not match the model's features is an error.
func mllrFile(cfg SphinxConfig, hmm string) (string, error) {
	if cfg.MLLR == MLLRNone {
		return "", nil
	}
	text, name := phoneMLLR, mllrName(cfg.MLLR)
	if cfg.MLLR != "" {
		b, err := os.ReadFile(cfg.MLLR)
		if err != nil {
			return "", fmt.Errorf("%w: MLLR transform: %v", ErrModel, err)
		}
		text = string(b)
	}
	dims, err := mllrDims(text)
	if err != nil {
		return "", fmt.Errorf("%w: MLLR transform %s: %v", ErrModel, name, err)
	}
	want, err := modelStreams(hmm)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrModel, err)
	}
	if !slices.Equal(dims, want) {
		return "", fmt.Errorf("%w: MLLR transform %s is for feature streams %v, the model in %s has %v (use --mllr none, or scripts/gen-mllr.sh for this model)",
			ErrModel, name, dims, hmm, want)
	}
	return writeTemp("ivr-*.mllr", text, "MLLR transform")
}

// mllrDims checks the shape of a transform in SphinxTrain's text format
// (classes, streams, then per stream its length, an n×n matrix, a bias of n
// and a variance scale of n) and returns the stream lengths. PocketSphinx
// reads the file without such checks.
func mllrDims(text string) ([]int, error) {
	f := strings.Fields(text)
	pos := 0
	next := func() (float64, error) {
		if pos >= len(f) {
			return 0, fmt.Errorf("ends early")
		}
		v, err := strconv.ParseFloat(f[pos], 64)
		pos++
		if err != nil {
			return 0, fmt.Errorf("value %d: %v", pos, err)
		}
		return v, nil
	}
	count := func(what string) (int, error) {
		v, err := next()
		if err == nil && (v != float64(int(v)) || v < 1 || v > 1000) {
			err = fmt.Errorf("bad %s %v", what, v)
		}
		return int(v), err
	}
	classes, err := count("class count")
	if err != nil {
		return nil, err
	}
	if classes != 1 {
		return nil, fmt.Errorf("%d classes; only a global transform is supported", classes)
	}
	streams, err := count("stream count")
	if err != nil {
		return nil, err
	}
	var dims []int
	for range streams {
		n, err := count("stream length")
		if err != nil {
			return nil, err
		}
		for range n*n + 2*n {
			if _, err := next(); err != nil {
				return nil, err
			}
		}
		dims = append(dims, n)
	}
	if pos != len(f) {
		return nil, fmt.Errorf("%d values after the last stream", len(f)-pos)
	}
	return dims, nil
}

// modelStreams returns the feature stream lengths of the model in hmm,
// from the -svspec of its feat.params or, without one, its 1s_c_d_dd
// features (one stream of three times -ceplen).
func modelStreams(hmm string) ([]int, error) {
	name := filepath.Join(hmm, "feat.params")
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(string(b))
	params := map[string]string{"-feat": "1s_c_d_dd", "-ceplen": "13"}
	for i := 0; i+1 < len(fields); i++ {
		if strings.HasPrefix(fields[i], "-") {
			params[fields[i]] = fields[i+1]
		}
	}
	if spec, ok := params["-svspec"]; ok {
		var dims []int
		for _, part := range strings.Split(spec, "/") {
			n := 0
			for _, r := range strings.Split(part, ",") {
				lo, hi, ok := strings.Cut(r, "-")
				a, err1 := strconv.Atoi(lo)
				b := a
				var err2 error
				if ok {
					b, err2 = strconv.Atoi(hi)
				}
				if err1 != nil || err2 != nil || b < a {
					return nil, fmt.Errorf("%s: bad -svspec %q", name, spec)
				}
				n += b - a + 1
			}
			dims = append(dims, n)
		}
		return dims, nil
	}
	n, err := strconv.Atoi(params["-ceplen"])
	if params["-feat"] != "1s_c_d_dd" || err != nil {
		return nil, fmt.Errorf("%s: feature streams of -feat %s -ceplen %s unknown", name, params["-feat"], params["-ceplen"])
	}
	return []int{3 * n}, nil
}

// mllrName says which transform a configuration uses, for the log.
func mllrName(path string) string {
	if path == "" {
		return "embedded phone.mllr"
	}
	return path
}
