package asr

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Grammar is what the recognizer listens for at one dialog step: an ordered
// list of rules, each an expansion in JSGF syntax tagged with the intent it
// means. The JSGF handed to the decoder and the Go matcher that maps a
// hypothesis back to its intent are both generated from the same rules, so
// they cannot drift apart.
type Grammar struct {
	// Name identifies the grammar; a stream selects it with Listen(Name).
	Name string
	// Rules are tried in order; the first whose expansion matches the whole
	// hypothesis names the intent.
	Rules []Rule
	// Defs are private helper rules referenced from expansions as <name>.
	Defs map[string]string
	// Garbage adds a free phone loop as an alternative to the rules (and
	// makes <garbage> available inside expansions). Speech the rules do not
	// cover then decodes as garbage and gives a no-match.
	Garbage bool
	// GarbageWeight is the JSGF weight on each phone of the garbage loop:
	// smaller makes garbage dearer, so less is rejected. 0 means
	// DefaultGarbageWeight.
	GarbageWeight float64
	// Open marks grammars (digits, amounts) whose phrases can always go on,
	// so a complete match does not shorten the end-of-speech silence.
	Open bool
	// Cues are phrases listened for alongside the rules: before a rule's
	// words, or on their own amid other speech (garbage). Each
	// cue's Intent is its tag. A hypothesis with a cue still gets its
	// rule's intent; the cue comes with it in Event.Cues.
	Cues []Rule
	// CueWeight is the JSGF weight on each word of a cue; 0 means
	// DefaultCueWeight.
	CueWeight float64
	// Background adds a loop of this many common English words (the most
	// frequent of the en-us language model, asr/background.txt) as an
	// alternative to the rules, and makes <filler> (what a rule spots a
	// keyword amid) those words instead of the garbage phones. An unrelated
	// sentence ("maybe later", "i don't know") is explained by real words,
	// which fit it better than any rule or the phone loop, and gives a
	// no-match; a rule's own phrase still wins, its path costing far less
	// than the loop's words. 0 adds none.
	Background int
	// BackgroundWeight is the JSGF weight on each background word; 0 means
	// DefaultBackgroundWeight.
	BackgroundWeight float64
	// MaxAcousticGap and MaxAgentGap take the place of the recognizer's
	// limits (SphinxConfig) for this grammar's results: 0 keeps the
	// recognizer's, negative turns the limit off. A background loop makes
	// every result's gap larger (PocketSphinx scores more senones each
	// frame, and the gap is measured against the best of them), so a
	// grammar with one needs its own.
	MaxAcousticGap, MaxAgentGap float64
	// VerifyAgent, when above 0, decodes a result whose intent is a
	// request for a person (IntentAgent) a second time, with a copy of the
	// grammar that has a loop of this many background words and no gap
	// limit but 56 for a person (as ConfirmGrammar), and the second
	// result stands. The loop is what tells a person's off-topic sentence
	// from a request (README, "Real recorded speech"), and requests for a
	// person are about one utterance a call, so the second decode costs
	// little CPU; it adds its time (tens of ms) to those results only.
	// Off (0) in the default grammars: at the main question it turned 75
	// of 124 real off-topic sentences taken for a person into no-matches,
	// but lost 4 of 96 scripted requests for a person (README).
	VerifyAgent int
}

// verifySuffix names a grammar's verification copy (Grammar.VerifyAgent).
const verifySuffix = "_verify"

// verifyCopy returns the copy of g that verifies its requests for a person.
func (g *Grammar) verifyCopy() *Grammar {
	v := *g
	v.Name, v.VerifyAgent = g.Name+verifySuffix, 0
	v.Background, v.MaxAcousticGap, v.MaxAgentGap = g.VerifyAgent, loopMaxGap, loopMaxAgentGap
	return &v
}

// Cue is a cue phrase heard in an utterance.
type Cue struct {
	// Tag is the cue rule's Intent ("frustrated", "swearing").
	Tag string `json:"tag"`
	// Text is the words heard.
	Text string `json:"text"`
}

// Rule maps one JSGF expansion to an intent.
type Rule struct {
	Intent    string
	Expansion string
}

// garbagePhones are the CI phones of the CMU en-us model. Each becomes a
// one-phone dictionary word "ph_xx" for the garbage loop.
var garbagePhones = []string{
	"AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
	"IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH",
	"UH", "UW", "V", "W", "Y", "Z", "ZH",
}

const garbagePrefix = "ph_"

// backgroundPrefix marks the dictionary words of the background loop:
// "bg_the" is "the" said outside the grammar.
const backgroundPrefix = "bg_"

// isGarbage reports whether a decoder word stands for speech outside the
// grammar: a garbage phone or a background word.
func isGarbage(w string) bool {
	return strings.HasPrefix(w, garbagePrefix) || strings.HasPrefix(w, backgroundPrefix)
}

// backgroundList is asr/background.txt: common English words, most frequent
// first (scripts/gen-background.sh).
//
//go:embed background.txt
var backgroundList string

// backgroundWords returns the n most frequent words of the list.
func backgroundWords(n int) []string {
	w := strings.Fields(backgroundList)
	return w[:min(n, len(w))]
}

// Background loop defaults: the size and weight that measured best when
// the loop is on (README, "Speech"). No default grammar turns it on: on
// three corpora it cut false accepts by about half and cost 2–5 points of
// intent accuracy at the main question, and at the confirm step it cut 5
// false accepts to 2 of 28 but cost 2 of 77 yes/no answers.
const (
	DefaultBackgroundWords  = 300
	DefaultBackgroundWeight = 1e-24
)

// garbageWord is the dictionary word of a garbage phone.
func garbageWord(phone string) string { return garbagePrefix + strings.ToLower(phone) }

// compiledGrammar is a grammar ready for the decoder and the matcher.
type compiledGrammar struct {
	g     *Grammar
	jsgf  string
	words []string // every word the decoder needs in its dictionary
	rules []*regexp.Regexp
	cues  []*regexp.Regexp
	// background are the words of the background loop, without the
	// prefix: the decoder's dictionary needs them as bg_ words.
	background []string
}

var (
	ruleRefRE  = regexp.MustCompile(`<([A-Za-z0-9_.]+)>`)
	weightRE   = regexp.MustCompile(`/[0-9.eE+-]+/`)
	jsgfTokRE  = regexp.MustCompile(`<[A-Za-z0-9_.]+>|[\[\]()|*+]|[^\s\[\]()|*+<>/]+`)
	ruleNameOK = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// compile checks the grammar and builds its JSGF text and matchers.
func (g *Grammar) compile() (*compiledGrammar, error) {
	if !ruleNameOK.MatchString(g.Name) || len(g.Rules) == 0 {
		return nil, fmt.Errorf("%w: grammar %q needs a lower-case name and at least one rule", ErrGrammar, g.Name)
	}
	c := &compiledGrammar{g: g}
	defs := map[string]string{}
	for k, v := range g.Defs {
		defs[k] = v
	}
	{
		// <garbage> is always defined: rules may use it around a keyword
		// even when the grammar has no garbage alternative. PocketSphinx
		// keeps JSGF weights only on word atoms (a weight on a rule
		// reference becomes a free null transition), so the cost sits on
		// every phone of the loop: log(weight) per phone.
		w := jsgfWeight(g.garbageWeight())
		ph := make([]string, len(garbagePhones))
		for i, p := range garbagePhones {
			ph[i] = "/" + w + "/ " + garbageWord(p)
		}
		// One phone, then a loop: "(...)+" would let a path leave the loop
		// into another alternative, since the compiler closes a loop onto
		// the state it was entered from (for "+" the grammar's start:
		// "ph_s i want to talk to an agent"). "x x*" closes onto the state
		// after the first phone, where no rule starts. (A chain of 40
		// optional phones did the same: identical results on three
		// corpora, with 8–29% more CPU.)
		one := "(" + strings.Join(ph, " | ") + ")"
		defs["garbage"] = one + " " + one + "*"
		// <filler> is what rules spot a keyword amid: the background
		// words when the grammar has them (the whole sentence around the
		// keyword is then explained as well as the sentence alone is),
		// else the garbage phones.
		defs["filler"] = defs["garbage"]
		if c.background = backgroundWords(g.Background); len(c.background) > 0 {
			bw := "/" + jsgfWeight(g.backgroundWeight()) + "/ " + backgroundPrefix
			one := "(" + bw + strings.Join(c.background, " | "+bw) + ")"
			defs["filler"] = one + " " + one + "*"
		}
	}
	words := map[string]bool{}
	// Every rule reference is inlined: the JSGF compiler of PocketSphinx
	// builds one sub-network per rule and links every reference to it, so a
	// rule used twice would let a path enter through one reference and
	// leave through another, giving phrases no rule allows.
	alts := make([]string, 0, len(g.Rules)+1)
	for i, r := range g.Rules {
		re, err := expansionRegexp(r.Expansion, defs, words, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: grammar %q rule %d (%s): %v", ErrGrammar, g.Name, i, r.Intent, err)
		}
		c.rules = append(c.rules, regexp.MustCompile("^(?:"+re+")$"))
		alts = append(alts, "("+inlineRules(r.Expansion, defs, 0)+")")
	}
	if g.Garbage {
		alts = append(alts, "("+inlineRules("<garbage>", defs, 0)+")")
		expansionRegexp("<garbage>", defs, words, 0)
	}
	if len(c.background) > 0 {
		// Speech outside the rules: common words, in a loop of their own.
		alts = append(alts, "("+inlineRules("<filler>", defs, 0)+")")
	}
	body := strings.Join(alts, "\n  | ")
	if len(g.Cues) > 0 {
		cue, err := c.compileCues(defs, words)
		if err != nil {
			return nil, err
		}
		garbage := "(" + inlineRules("<garbage>", defs, 0) + ")"
		// A copy of the rules after the cue, not an optional cue before
		// them: that null path in front of every rule cost the e2e speech
		// call its "make a payment".
		rules := strings.Join(alts[:len(g.Rules)], " | ")
		body += "\n  | " + cue + " (" + rules + ")\n  | " + garbage + " " + cue + " [" + garbage + "]"
		expansionRegexp("<garbage>", defs, words, 0)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#JSGF V1.0;\ngrammar %s;\npublic <%s> = %s;\n", g.Name, g.Name, body)
	c.jsgf = b.String()
	for w := range words {
		c.words = append(c.words, w)
	}
	sort.Strings(c.words)
	return c, nil
}

// inlineRules replaces every <rule> in a (checked) expansion by its body.
func inlineRules(exp string, defs map[string]string, depth int) string {
	if depth > 8 {
		return exp
	}
	return ruleRefRE.ReplaceAllStringFunc(exp, func(ref string) string {
		return "(" + inlineRules(defs[ref[1:len(ref)-1]], defs, depth+1) + ")"
	})
}

// expansionRegexp turns a JSGF expansion into a regular expression over a
// hypothesis written as words each followed by one space.
func expansionRegexp(exp string, defs map[string]string, words map[string]bool, depth int) (string, error) {
	if depth > 8 {
		return "", fmt.Errorf("rules nest too deep")
	}
	exp = weightRE.ReplaceAllString(exp, " ")
	var b strings.Builder
	open := 0
	for _, tok := range jsgfTokRE.FindAllString(exp, -1) {
		switch tok {
		case "[":
			b.WriteString("(?:")
			open++
		case "]":
			b.WriteString(")?")
			open--
		case "(":
			b.WriteString("(?:")
			open++
		case ")":
			b.WriteString(")")
			open--
		case "|", "*", "+":
			b.WriteString(tok)
		default:
			if tok == "<garbage>" || tok == "<filler>" {
				b.WriteString("(?:(?:" + garbagePrefix + "|" + backgroundPrefix + ")[a-z']+ )+")
				for _, p := range garbagePhones {
					words[garbageWord(p)] = true
				}
				continue
			}
			if m := ruleRefRE.FindStringSubmatch(tok); m != nil {
				sub, ok := defs[m[1]]
				if !ok {
					return "", fmt.Errorf("undefined rule <%s>", m[1])
				}
				re, err := expansionRegexp(sub, defs, words, depth+1)
				if err != nil {
					return "", err
				}
				b.WriteString("(?:" + re + ")")
				continue
			}
			w := strings.ToLower(tok)
			words[w] = true
			b.WriteString(regexp.QuoteMeta(w) + " ")
		}
		if open < 0 {
			return "", fmt.Errorf("unbalanced brackets in %q", exp)
		}
	}
	if open != 0 {
		return "", fmt.Errorf("unbalanced brackets in %q", exp)
	}
	return b.String(), nil
}

// mustExpansion compiles an expansion without rule references into a
// matcher of whole hypotheses (written as for match: each word followed
// by one space). It is for the package's own expansions and panics on a
// bad one.
func mustExpansion(exp string) *regexp.Regexp {
	re, err := expansionRegexp(exp, nil, map[string]bool{}, 0)
	if err != nil {
		panic(err)
	}
	return regexp.MustCompile("^(?:" + re + ")$")
}

func (g *Grammar) backgroundWeight() float64 {
	if g.BackgroundWeight == 0 {
		return DefaultBackgroundWeight
	}
	return g.BackgroundWeight
}

// DefaultGarbageWeight is the JSGF weight on each phone of the garbage loop.
const DefaultGarbageWeight = 1e-12

func (g *Grammar) garbageWeight() float64 {
	if g.GarbageWeight == 0 {
		return DefaultGarbageWeight
	}
	return g.GarbageWeight
}

// jsgfWeight formats a weight in plain decimal: the JSGF lexer of
// PocketSphinx does not read exponents.
func jsgfWeight(w float64) string { return strconv.FormatFloat(w, 'f', -1, 64) }

// match returns the intent of a hypothesis, or "" when no rule covers it.
func (c *compiledGrammar) match(hyp string) string {
	if hyp == "" {
		return ""
	}
	s := hyp + " "
	for i, re := range c.rules {
		if re.MatchString(s) {
			return c.g.Rules[i].Intent
		}
	}
	return ""
}

// cleanHyp drops alternate-pronunciation marks ("word(2)") from a decoder
// hypothesis and returns it with and without garbage words.
func cleanHyp(hyp string) (withGarbage, words string) {
	f := strings.Fields(hyp)
	var all, w []string
	for _, x := range f {
		if i := strings.IndexByte(x, '('); i > 0 {
			x = x[:i]
		}
		all = append(all, x)
		if !isGarbage(x) {
			w = append(w, x)
		}
	}
	return strings.Join(all, " "), strings.Join(w, " ")
}
