package asr

// #cgo pkg-config: pocketsphinx
// #include <stdlib.h>
// #include <stdio.h>
// #include <string.h>
// #include <sphinxbase/cmn.h>
// #include <sphinxbase/feat.h>
// #include <pocketsphinx.h>
// #include <sphinxbase/err.h>
//
// static ps_decoder_t *ivr_ps_new(int argc, char **argv) {
//     cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, TRUE);
//     if (cfg == NULL) return NULL;
//     ps_decoder_t *ps = ps_init(cfg);
//     cmd_ln_free_r(cfg);
//     return ps;
// }
// static void ivr_ps_quiet(void) { err_set_logfp(NULL); }
//
// static int ivr_cmn_len(ps_decoder_t *ps) {
//     feat_t *f = ps_get_feat(ps);
//     return f->cmn_struct ? f->cmn_struct->veclen : 0;
// }
// static void ivr_cmn_set(ps_decoder_t *ps, const float *v) {
//     feat_t *f = ps_get_feat(ps);
//     if (f->cmn_struct) cmn_live_set(f->cmn_struct, v);
// }
// static void ivr_cmn_get(ps_decoder_t *ps, float *v) {
//     feat_t *f = ps_get_feat(ps);
//     if (f->cmn_struct) memcpy(v, f->cmn_struct->cmn_mean, f->cmn_struct->veclen * sizeof(float));
// }
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

var quietOnce sync.Once

// sphinx is one PocketSphinx decoder. It is not safe for concurrent use: the
// pool hands it to one stream at a time.
type sphinx struct {
	ps       *C.ps_decoder_t
	inUtt    bool
	searches map[string]bool
}

// newSphinx creates a decoder from command-line style arguments, e.g.
// {"-hmm", dir, "-dict", file}. verbose keeps the library's own log on stderr.
func newSphinx(args []string, verbose bool) (*sphinx, error) {
	if !verbose {
		quietOnce.Do(func() { C.ivr_ps_quiet() })
	}
	argv := make([]*C.char, 0, len(args)+1)
	argv = append(argv, C.CString("ivr"))
	for _, a := range args {
		argv = append(argv, C.CString(a))
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	cargv := (**C.char)(C.malloc(C.size_t(len(argv)) * C.size_t(unsafe.Sizeof(argv[0]))))
	defer C.free(unsafe.Pointer(cargv))
	copy(unsafe.Slice(cargv, len(argv)), argv)
	ps := C.ivr_ps_new(C.int(len(argv)), cargv)
	if ps == nil {
		return nil, fmt.Errorf("%w: pocketsphinx init with %v", ErrModel, args)
	}
	return &sphinx{ps: ps, searches: map[string]bool{}}, nil
}

// addJSGF compiles a JSGF grammar as the named search.
func (s *sphinx) addJSGF(name, jsgf string) error {
	cn, cj := C.CString(name), C.CString(jsgf)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cj))
	if C.ps_set_jsgf_string(s.ps, cn, cj) != 0 {
		return fmt.Errorf("%w: %s", ErrGrammar, name)
	}
	s.searches[name] = true
	return nil
}

// addKeyphrase adds a keyword-spotting search for one phrase.
func (s *sphinx) addKeyphrase(name, phrase string) error {
	cn, cp := C.CString(name), C.CString(phrase)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cp))
	if C.ps_set_keyphrase(s.ps, cn, cp) != 0 {
		return fmt.Errorf("%w: keyphrase %s", ErrGrammar, name)
	}
	s.searches[name] = true
	return nil
}

// start begins an utterance with the named search.
func (s *sphinx) start(search string) error {
	if !s.searches[search] {
		return fmt.Errorf("%w: %q", ErrUnknownGrammar, search)
	}
	cn := C.CString(search)
	defer C.free(unsafe.Pointer(cn))
	if C.ps_set_search(s.ps, cn) != 0 {
		return fmt.Errorf("%w: set search %q", ErrDecoder, search)
	}
	if C.ps_start_utt(s.ps) != 0 {
		return fmt.Errorf("%w: start utterance", ErrDecoder)
	}
	s.inUtt = true
	return nil
}

// process feeds 16 kHz samples.
func (s *sphinx) process(pcm []int16) error {
	if len(pcm) == 0 {
		return nil
	}
	n := C.ps_process_raw(s.ps, (*C.int16)(unsafe.Pointer(&pcm[0])), C.size_t(len(pcm)), 0, 0)
	if n < 0 {
		return fmt.Errorf("%w: process", ErrDecoder)
	}
	return nil
}

// hyp returns the current best hypothesis and its path score.
func (s *sphinx) hyp() (string, int32) {
	var score C.int32
	h := C.ps_get_hyp(s.ps, &score)
	if h == nil {
		return "", int32(score)
	}
	return C.GoString(h), int32(score)
}

// end finishes the utterance and returns the hypothesis, its path score,
// its posterior probability (log base, see logmath) and the frame count.
func (s *sphinx) end() (hyp string, score, prob int32, frames int, err error) {
	if !s.inUtt {
		return "", 0, 0, 0, nil
	}
	s.inUtt = false
	if C.ps_end_utt(s.ps) != 0 {
		return "", 0, 0, 0, fmt.Errorf("%w: end utterance", ErrDecoder)
	}
	hyp, score = s.hyp()
	prob = int32(C.ps_get_prob(s.ps))
	frames = int(C.ps_get_n_frames(s.ps))
	return hyp, score, prob, frames, nil
}

// abort ends an utterance whose result is not wanted.
func (s *sphinx) abort() {
	if s.inUtt {
		s.inUtt = false
		C.ps_end_utt(s.ps)
	}
}

// free releases the decoder.
func (s *sphinx) free() {
	if s.ps != nil {
		s.abort()
		C.ps_free(s.ps)
		s.ps = nil
	}
}

// segments lists the words of the best path after end.
func (s *sphinx) segments() []WordScore {
	var out []WordScore
	for it := C.ps_seg_iter(s.ps); it != nil; it = C.ps_seg_next(it) {
		var sf, ef C.int
		var ascr, lscr, lback C.int32
		C.ps_seg_frames(it, &sf, &ef)
		C.ps_seg_prob(it, &ascr, &lscr, &lback)
		out = append(out, WordScore{Word: C.GoString(C.ps_seg_word(it)), Frames: int(ef-sf) + 1, Ascr: int32(ascr)})
	}
	return out
}

// cmnLen is the length of the decoder's cepstral mean vector (0 without CMN).
func (s *sphinx) cmnLen() int { return int(C.ivr_cmn_len(s.ps)) }

// setCMN sets the live cepstral mean the next frames are normalised with.
func (s *sphinx) setCMN(mean []float32) {
	if len(mean) == 0 || len(mean) != s.cmnLen() {
		return
	}
	C.ivr_cmn_set(s.ps, (*C.float)(unsafe.Pointer(&mean[0])))
}

// getCMN returns the live cepstral mean.
func (s *sphinx) getCMN() []float32 {
	n := s.cmnLen()
	if n == 0 {
		return nil
	}
	v := make([]float32, n)
	C.ivr_cmn_get(s.ps, (*C.float)(unsafe.Pointer(&v[0])))
	return v
}
