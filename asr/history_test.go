package asr

import (
	"path/filepath"
	"testing"

	"github.com/supportline/ivr/media"
)

// TestResultIndependentOfHistory decodes one clip on a fresh decoder, then
// again after the decoder has served 39 other utterances: a caller's result
// must not depend on the calls a pooled decoder served before. With
// PocketSphinx's noise subtraction on, the score moved (-3177 fresh, -3133
// after; -4984 / -3757 before the MLLR).
func TestResultIndependentOfHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 41 clips")
	}
	s := newTestSphinx(t)
	d := s.all[0]
	clips, err := ReadCorpus("../testdata/corpus-ci")
	if err != nil {
		t.Fatal(err)
	}
	load := func(c CorpusClip) []int16 {
		a, err := media.ReadWAVFile(filepath.Join("../testdata/corpus-ci", c.Path))
		if err != nil {
			t.Fatal(err)
		}
		fe := NewFrontEnd(FrontEndConfig{}, 1)
		return fe.Process(nil, media.DecodeULaw(nil, media.EncodeULaw(nil, a.Mono8k())))
	}
	decode := func(c CorpusClip) (string, int32) {
		if err := d.start(c.Step); err != nil {
			t.Fatal(err)
		}
		d.setCMN(s.utteranceCMN())
		if err := d.process(load(c)); err != nil {
			t.Fatal(err)
		}
		hyp, score, _, _, err := d.end()
		if err != nil {
			t.Fatal(err)
		}
		return hyp, score
	}
	probe := clips[0]
	h0, s0 := decode(probe)
	for _, c := range clips[1:40] {
		decode(c)
	}
	h1, s1 := decode(probe)
	if h0 != h1 || s0 != s1 {
		t.Errorf("%s: %q (score %d) on a fresh decoder, %q (score %d) after 39 other utterances", probe.Path, h0, s0, h1, s1)
	}
}
