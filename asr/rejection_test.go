package asr

import "testing"

func TestAcousticGap(t *testing.T) {
	tests := []struct {
		name string
		segs []segment
		want float64
	}{
		{"no words", []segment{{word: "<sil>", frames: 10, ascr: -500}, {word: "ph_ah", frames: 5, ascr: -100}}, 0},
		{"words only", []segment{{word: "balance", frames: 20, ascr: -600}, {word: "please", frames: 10, ascr: -300}}, 30},
		{"silence, fillers and garbage left out", []segment{
			{word: "<s>", frames: 3, ascr: -9000}, {word: "[NOISE]", frames: 4, ascr: -9000},
			{word: "ph_k", frames: 6, ascr: -9000}, {word: "agent", frames: 25, ascr: -1000},
		}, 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := acousticGap(tc.segs); got != tc.want {
				t.Errorf("acousticGap = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAcceptThresholds(t *testing.T) {
	tests := []struct {
		name          string
		minConf       float64
		maxGap        float64
		minPF         float64
		conf, gap, pf float64
		want          bool
	}{
		{"off when zero", 0, 0, 0, 0.05, 90, 2, true},
		{"off when negative", 0, -1, -1, 0.05, 90, 2, true},
		{"coverage below floor", 0.4, 0, 0, 0.3, 10, 9, false},
		{"coverage at floor", 0.4, 0, 0, 0.4, 10, 9, true},
		{"gap above limit", 0, 44, 0, 1, 44.5, 9, false},
		{"gap within limit", 0, 44, 0, 1, 43, 9, true},
		{"phones squeezed", 0, 0, 6, 1, 10, 5.9, false},
		{"phones at floor", 0, 0, 6, 1, 10, 6, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Sphinx{cfg: SphinxConfig{MinConfidence: tc.minConf, MaxAcousticGap: tc.maxGap, MinPhoneFrames: tc.minPF}}
			if got := s.accept(tc.conf, tc.gap, tc.pf); got != tc.want {
				t.Errorf("accept(%v, %v, %v) = %v, want %v", tc.conf, tc.gap, tc.pf, got, tc.want)
			}
		})
	}
}

func TestPhoneFrames(t *testing.T) {
	phones := map[string]int{"get(2)": 3, "me": 2, "a": 1, "human": 5, "bye": 2}
	tests := []struct {
		name string
		segs []segment
		want float64
	}{
		{"no words", []segment{{word: "<sil>", frames: 10}, {word: "ph_ah", frames: 5}}, 0},
		// "get me a human" at a normal pace: 11 phones in 99 frames.
		{"pronunciation variants counted", []segment{{word: "get(2)", frames: 18}, {word: "me", frames: 11},
			{word: "a", frames: 5}, {word: "human", frames: 42}, {word: nullWord, frames: 1}, {word: "<sil>", frames: 20}}, 76.0 / 11},
		// A click heard as "bye" amid garbage phones: the empty transitions
		// and the garbage do not dilute the squeeze.
		{"garbage and empty transitions left out", []segment{{word: "ph_k", frames: 12}, {word: nullWord, frames: 1},
			{word: "bye", frames: 7}, {word: nullWord, frames: 1}}, 3.5},
		{"a word the table lacks counts one phone", []segment{{word: "zzz", frames: 9}}, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := phoneFrames(tc.segs, phones); got != tc.want {
				t.Errorf("phoneFrames = %v, want %v", got, tc.want)
			}
		})
	}
}
