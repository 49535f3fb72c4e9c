package asr

import (
	"fmt"
	"regexp"
	"strings"
)

// maxCueWords bounds the length of a cue phrase the matcher looks for.
const maxCueWords = 6

// compileCues builds the matchers of g.Cues and returns their JSGF
// alternation.
func (c *compiledGrammar) compileCues(defs map[string]string, words map[string]bool) (string, error) {
	alts := make([]string, 0, len(c.g.Cues))
	for i, r := range c.g.Cues {
		re, err := expansionRegexp(r.Expansion, defs, words, 0)
		if err != nil {
			return "", fmt.Errorf("%w: grammar %q cue %d (%s): %v", ErrGrammar, c.g.Name, i, r.Intent, err)
		}
		c.cues = append(c.cues, regexp.MustCompile("^(?:"+re+")$"))
		alts = append(alts, "("+weightWords(inlineRules(r.Expansion, defs, 0), c.g.cueWeight())+")")
	}
	return "(" + strings.Join(alts, " | ") + ")", nil
}

// DefaultCueWeight is the JSGF weight on each word of a cue: cues must
// cost more than the rules' words, or they soak up ordinary speech (at 1,
// the CI corpus lost 10 points of intent accuracy to "awful", "damn it"),
// and less than the garbage phones they replace (1e-12 each), or they are
// never heard (at 1e-40 no angry phrase of the frustration corpus was).
const DefaultCueWeight = 1e-24

func (g *Grammar) cueWeight() float64 {
	if g.CueWeight == 0 {
		return DefaultCueWeight
	}
	return g.CueWeight
}

// weightWords puts the JSGF weight w on every word of an inlined
// expansion (PocketSphinx keeps weights on word atoms only).
func weightWords(exp string, w float64) string {
	ws := "/" + jsgfWeight(w) + "/ "
	var b strings.Builder
	for _, tok := range jsgfTokRE.FindAllString(exp, -1) {
		switch tok {
		case "[", "]", "(", ")", "|", "*", "+":
		default:
			b.WriteString(ws)
		}
		b.WriteString(tok + " ")
	}
	return b.String()
}

// cue returns the cue that covers words exactly.
func (c *compiledGrammar) cue(words []string) (Cue, bool) {
	if len(words) == 0 || len(words) > maxCueWords {
		return Cue{}, false
	}
	text := strings.Join(words, " ")
	for i, re := range c.cues {
		if re.MatchString(text + " ") {
			return Cue{Tag: c.g.Cues[i].Intent, Text: text}, true
		}
	}
	return Cue{}, false
}

// matchCues returns the intent of a hypothesis and the cues around (or
// instead of) the rule's words. A hypothesis of cues and garbage only has
// no intent but its cues.
func (c *compiledGrammar) matchCues(hyp string) (string, []Cue) {
	if intent := c.match(hyp); intent != "" || len(c.cues) == 0 {
		return intent, nil
	}
	w := strings.Fields(hyp)
	n := len(w)
	for i := 0; i <= min(n, maxCueWords); i++ {
		pre, okPre := c.cue(w[:i])
		if i > 0 && !okPre {
			continue
		}
		for j := n; j >= max(i, n-maxCueWords); j-- {
			post, okPost := c.cue(w[j:])
			if (j < n && !okPost) || (i == 0 && j == n) {
				continue
			}
			intent := c.match(strings.Join(w[i:j], " "))
			if intent == "" && !garbageOnly(w[i:j]) {
				continue
			}
			var cues []Cue
			if okPre {
				cues = append(cues, pre)
			}
			if okPost {
				cues = append(cues, post)
			}
			return intent, cues
		}
	}
	return "", c.spotCue(w)
}

// spotCue finds a cue amid garbage: "<garbage> cue <garbage>".
func (c *compiledGrammar) spotCue(w []string) []Cue {
	for i := range w {
		if !garbageOnly(w[:i]) {
			break
		}
		for j := min(len(w), i+maxCueWords); j > i; j-- {
			if cue, ok := c.cue(w[i:j]); ok && garbageOnly(w[j:]) {
				return []Cue{cue}
			}
		}
	}
	return nil
}

// garbageOnly reports whether every word is a garbage phone.
func garbageOnly(words []string) bool {
	for _, x := range words {
		if !isGarbage(x) {
			return false
		}
	}
	return true
}
