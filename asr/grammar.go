package asr

import (
	"fmt"
	"regexp"
	"sort"
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
	// GarbageWeight is the JSGF weight of the garbage alternative against a
	// total of 1 for the rules; smaller rejects less. 0 means 1e-10.
	GarbageWeight float64
	// Open marks grammars (digits, amounts) whose phrases can always go on,
	// so a complete match does not shorten the end-of-speech silence.
	Open bool
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

// garbageWord is the dictionary word of a garbage phone.
func garbageWord(phone string) string { return garbagePrefix + strings.ToLower(phone) }

// compiledGrammar is a grammar ready for the decoder and the matcher.
type compiledGrammar struct {
	g     *Grammar
	jsgf  string
	words []string // every word the decoder needs in its dictionary
	rules []*regexp.Regexp
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
	defs := map[string]string{}
	for k, v := range g.Defs {
		defs[k] = v
	}
	if g.Garbage {
		ph := make([]string, len(garbagePhones))
		for i, p := range garbagePhones {
			ph[i] = garbageWord(p)
		}
		defs["garbage"] = "(" + strings.Join(ph, " | ") + ")+"
	}
	c := &compiledGrammar{g: g}
	words := map[string]bool{}
	var b strings.Builder
	fmt.Fprintf(&b, "#JSGF V1.0;\ngrammar %s;\n", g.Name)
	alts := make([]string, 0, len(g.Rules)+1)
	for i, r := range g.Rules {
		alts = append(alts, fmt.Sprintf("<r%d_%s>", i, r.Intent))
	}
	if g.Garbage {
		w := g.GarbageWeight
		if w == 0 {
			w = 1e-10
		}
		for i := range alts {
			alts[i] = fmt.Sprintf("/%g/ %s", 1/float64(len(g.Rules)), alts[i])
		}
		alts = append(alts, fmt.Sprintf("/%g/ <garbage>", w))
	}
	fmt.Fprintf(&b, "public <%s> = %s;\n", g.Name, strings.Join(alts, " | "))
	for i, r := range g.Rules {
		re, err := expansionRegexp(r.Expansion, defs, words, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: grammar %q rule %d (%s): %v", ErrGrammar, g.Name, i, r.Intent, err)
		}
		c.rules = append(c.rules, regexp.MustCompile("^"+re+"$"))
		fmt.Fprintf(&b, "<r%d_%s> = %s;\n", i, r.Intent, r.Expansion)
	}
	names := make([]string, 0, len(defs))
	for k := range defs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, err := expansionRegexp(defs[k], defs, words, 0); err != nil {
			return nil, fmt.Errorf("%w: grammar %q rule <%s>: %v", ErrGrammar, g.Name, k, err)
		}
		fmt.Fprintf(&b, "<%s> = %s;\n", k, defs[k])
	}
	c.jsgf = b.String()
	for w := range words {
		c.words = append(c.words, w)
	}
	sort.Strings(c.words)
	return c, nil
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
		if !strings.HasPrefix(x, garbagePrefix) {
			w = append(w, x)
		}
	}
	return strings.Join(all, " "), strings.Join(w, " ")
}
