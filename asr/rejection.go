package asr

// acousticGap is how far, per frame, the acoustic score of the grammar's
// words on the best path falls short of the best-scoring senone of each
// frame (PocketSphinx's segment scores are relative to it): speech the
// grammar covers fits its words closely; out-of-grammar speech forced onto
// grammar words fits them poorly. Silence, fillers and garbage phones are
// left out. It returns 0 when the path has no words.
func acousticGap(segs []segment) float64 {
	var ascr int64
	var frames int
	for _, s := range segs {
		if isWord(s.word) {
			ascr += int64(s.ascr)
			frames += s.frames
		}
	}
	if frames == 0 {
		return 0
	}
	return -float64(ascr) / float64(frames)
}

// isWord reports whether a best-path entry is a grammar word rather than
// silence, a filler or a garbage phone.
func isWord(w string) bool {
	return w != "" && w[0] != '<' && w[0] != '[' && !isGarbage(w)
}

// accept applies the rejection thresholds to a result whose words matched
// an intent: too little of the speech explained by the grammar's words
// (the rest went to the garbage loop), or words that fit the audio too
// poorly, make it a no-match.
func (s *Sphinx) accept(conf, gap float64) bool {
	if s.cfg.MinConfidence > 0 && conf < s.cfg.MinConfidence {
		return false
	}
	return s.cfg.MaxAcousticGap <= 0 || gap <= s.cfg.MaxAcousticGap
}
