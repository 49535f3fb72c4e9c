package asr

// acousticGap is how far, per frame, the acoustic score of the grammar's
// words on the best path falls short of the best-scoring senone of each
// frame (PocketSphinx's segment scores are relative to it): speech the
// grammar covers fits its words closely; out-of-grammar speech forced onto
// grammar words fits them poorly. Silence, fillers and garbage phones are
// left out. It returns 0 when the path has no words.
func acousticGap(segs []WordScore) float64 {
	var ascr int64
	var frames int
	for _, s := range segs {
		if isWord(s.Word) {
			ascr += int64(s.Ascr)
			frames += s.Frames
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

// nullWord is the decoder's name for the empty transitions of the grammar
// on the best path (one frame, no phones).
const nullWord = "(NULL)"

// phoneFrames is how many frames the grammar's words on the best path take
// per phone of their pronunciations: 7 to 15 on the corpus for words said
// as the grammar has them, fewer when the decoder squeezes a longer phrase onto
// other speech, or a short word onto a click. It returns 0 when the path
// has no words.
func phoneFrames(segs []WordScore, phones map[string]int) float64 {
	var frames, n int
	for _, s := range segs {
		if isWord(s.Word) && s.Word != nullWord {
			frames += s.Frames
			n += max(1, phones[s.Word])
		}
	}
	if n == 0 {
		return 0
	}
	return float64(frames) / float64(n)
}

// bareAgentShare is the share of the speech that the words for a person
// must explain for a request to count as said with those words alone
// (SphinxConfig.MaxBareAgentGap). Under it the words were spotted amid
// other speech: "the weather is lovely today" heard as garbage around
// "agent", two of the held-out corpora's out-of-grammar clips.
const bareAgentShare = 0.5

// personOnly matches a hypothesis that is only the words for a person
// that callers say alone ("operator", "a real person", "customer
// service"): no verb, no "please", and not "a human being", a phrase
// calm callers' sentences were heard as (the frustration CI slice's
// "a human being" at 54.6; "a human being please" at 51-56 on the older
// scripted calls) and no real request was. Each is also one of
// agentDefs' <person> (TestBarePerson).
var personOnly = mustExpansion(barePersonWords)

// barePersonWords are the words personOnly matches.
const barePersonWords = "[an] agent | [a] representative | [an] operator | [a] human | [a] real person | [a] person | someone | somebody | customer service"

// barePerson reports whether a request for a person was said with the
// words for a person alone, which explain at least bareAgentShare of the
// speech.
func barePerson(words string, conf float64) bool {
	return conf >= bareAgentShare && personOnly.MatchString(words+" ")
}

// accept applies the rejection thresholds to a result whose words matched
// intent: too little of the speech explained by the grammar's words
// (the rest went to the garbage loop), words that fit the audio too
// poorly (a request for a person has its own limit, higher again for
// the words for a person alone), or words squeezed into too few frames
// make it a no-match.
//
// g's own limits (Grammar.MaxAcousticGap, MaxAgentGap), when set, take the
// place of the recognizer's; g may be nil.
func (s *Sphinx) accept(g *Grammar, intent, words string, conf, gap, pf float64) bool {
	if s.cfg.MinConfidence > 0 && conf < s.cfg.MinConfidence {
		return false
	}
	if s.cfg.MinPhoneFrames > 0 && pf < s.cfg.MinPhoneFrames {
		return false
	}
	limit := s.cfg.MaxAcousticGap
	if g != nil && g.MaxAcousticGap != 0 {
		limit = g.MaxAcousticGap
	}
	if intent == IntentAgent {
		limit = s.cfg.MaxAgentGap
		if g != nil && g.MaxAgentGap != 0 {
			limit = g.MaxAgentGap
		}
		if limit > 0 && s.cfg.MaxBareAgentGap > limit && barePerson(words, conf) {
			limit = s.cfg.MaxBareAgentGap
		}
	}
	return limit <= 0 || gap <= limit
}
