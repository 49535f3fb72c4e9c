package asr

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBackgroundGrammar(t *testing.T) {
	g := ConfirmGrammar()
	g.Background = DefaultBackgroundWords
	c, err := g.compile()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.background) != DefaultBackgroundWords || c.background[0] != "the" {
		t.Fatalf("background: %d words, first %q", len(c.background), c.background[0])
	}
	if !strings.Contains(c.jsgf, "/0.000000000000000000000001/ bg_the") {
		t.Errorf("no weighted background words in the JSGF:\n%.600s", c.jsgf)
	}
	for _, w := range c.words {
		if strings.HasPrefix(w, backgroundPrefix) {
			t.Errorf("background word %q among the grammar's dictionary words", w)
		}
	}
	for hyp, want := range map[string]string{
		"bg_i bg_don't bg_know":   "",
		"bg_maybe bg_later":       "",
		"yes":                     IntentYes,
		"bg_yes":                  "", // the loop said it: not an answer
		"ph_ah bg_no":             "",
		"nah that's wrong please": IntentNo,
	} {
		if got, cues := c.matchCues(hyp); got != want || cues != nil {
			t.Errorf("matchCues(%q) = %q %v, want %q", hyp, got, cues, want)
		}
	}
	if all, words := cleanHyp("bg_well(2) ph_ah yes bg_please"); all != "bg_well ph_ah yes bg_please" || words != "yes" {
		t.Errorf("cleanHyp = %q, %q", all, words)
	}

	// A rule spots its keyword amid the background words, not amid phones.
	g = &Grammar{Name: "spot", Garbage: true, Background: 50, Rules: []Rule{{IntentAgent, "<filler> agent [<filler>]"}}}
	sc, err := g.compile()
	if err != nil {
		t.Fatal(err)
	}
	for hyp, want := range map[string]string{
		"bg_give bg_me bg_an agent":  IntentAgent,
		"bg_i agent bg_now bg_it's":  IntentAgent,
		"bg_give bg_me bg_an":        "",
		"ph_g ph_ih ph_v agent ph_s": IntentAgent, // the regexp takes either; the JSGF has words only
	} {
		if got := sc.match(hyp); got != want {
			t.Errorf("spot: match(%q) = %q, want %q", hyp, got, want)
		}
	}
	if strings.Contains(sc.jsgf, "ph_aa agent") {
		t.Error("the spotting rule still uses the phone loop")
	}
	// Without background words <filler> is the phone loop.
	g.Background = 0
	if sc, err = g.compile(); err != nil || !strings.Contains(sc.jsgf, "ph_zh") || strings.Contains(sc.jsgf, "bg_") {
		t.Errorf("no background: err %v, jsgf:\n%.400s", err, sc.jsgf)
	}
}

// dictFor returns the dictionary writeDict makes for words and
// background words from the installed model's, and its phone counts.
func dictFor(t *testing.T, words, background map[string]bool) (string, map[string]int) {
	t.Helper()
	full := filepath.Join(DefaultModelDir(), "cmudict-en-us.dict")
	if _, err := os.Stat(full); err != nil {
		t.Skipf("pocketsphinx-en-us not installed: %v", err)
	}
	path, phones, err := writeDict(full, words, background)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), phones
}

func TestBackgroundDictionary(t *testing.T) {
	d, _ := dictFor(t, map[string]bool{"yes": true}, map[string]bool{"the": true, "don't": true})
	for _, want := range []string{"\nbg_the DH AH\n", "\nbg_don't D OW N T\n", "yes Y EH S\n", "ph_zh ZH\n"} {
		if !strings.Contains("\n"+d, want) {
			t.Errorf("dictionary lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "bg_the(2)") {
		t.Error("a background word kept its alternate pronunciations")
	}
}

// TestDroppedPronunciations checks that "human" reaches the decoders with
// its h only: without it, "balance please" fit "a human please" as well as
// the words said (README).
func TestDroppedPronunciations(t *testing.T) {
	d, phones := dictFor(t, map[string]bool{"human": true, "a": true}, nil)
	d = "\n" + d
	if !strings.Contains(d, "\nhuman HH Y UW M AH N\n") || strings.Contains(d, "human(2)") || phones["human(2)"] != 0 {
		t.Errorf("want human with its h only:%s", d)
	}
	if !strings.Contains(d, "\na(2) EY\n") {
		t.Errorf("other words lost their alternate pronunciations:%s", d)
	}
}

// TestBackgroundConfirmCI decodes the CI slice's yes/no answers and
// unrelated answers with and without the background words, through the
// real decoder (bg_ words in its dictionary, the weighted loop in its
// JSGF). The slice is small (11 answers, 4 unrelated, none of them
// accepted even without the words), so the figures are floors against
// regressions; the measured trade is on the held-out corpora (README).
func TestBackgroundConfirmCI(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 15 clips twice")
	}
	dir := t.TempDir()
	clips, err := filepath.Abs("../testdata/corpus-ci/clips")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(clips, filepath.Join(dir, "clips")); err != nil {
		t.Fatal(err)
	}
	tsv, err := os.ReadFile("../testdata/corpus-ci/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(tsv), "\n")
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "clips/confirm-") {
			out = append(out, l)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "corpus.tsv"), []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(loop bool) *Report {
		gs := DefaultGrammars()
		for _, g := range gs {
			if g.Name == GrammarConfirm && !loop {
				// The yes/no grammar as it was before its loop, with the
				// recognizer's gap limits.
				g.Background, g.MaxAcousticGap, g.MaxAgentGap = 0, 0, 0
			}
		}
		rep, _ := evalWith(t, SphinxConfig{Decoders: 1, Grammars: gs}, dir)
		return rep
	}
	without, with := run(false), run(true)
	count := func(r *Report) (right, accepted int) {
		for _, c := range r.Results {
			switch {
			case c.Intent == IntentNone && c.GotIntent != IntentNone:
				accepted++
			case c.Intent != IntentNone && c.GotIntent == c.Intent:
				right++
			}
		}
		return
	}
	r0, a0 := count(without)
	r1, a1 := count(with)
	t.Logf("yes/no right: %d → %d of 11; unrelated answers accepted: %d → %d of 4", r0, r1, a0, a1)
	// Measured 11 → 9 or 10 (the loop took "no it isn't", and "correct"
	// depending on the front-end's noise seed) and 0 → 0; 10 → 10 since
	// the loop has its own gap limits (a3e26a6).
	if r1 < 9 {
		t.Errorf("background words cost yes/no answers: %d → %d of 11", r0, r1)
	}
	if a1 > a0 {
		t.Errorf("more unrelated answers accepted with background words: %d → %d", a0, a1)
	}
}
