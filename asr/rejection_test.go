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
		name      string
		minConf   float64
		maxGap    float64
		conf, gap float64
		want      bool
	}{
		{"off when zero", 0, 0, 0.05, 90, true},
		{"off when negative", 0, -1, 0.05, 90, true},
		{"coverage below floor", 0.4, 0, 0.3, 10, false},
		{"coverage at floor", 0.4, 0, 0.4, 10, true},
		{"gap above limit", 0, 44, 1, 44.5, false},
		{"gap within limit", 0, 44, 1, 43, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Sphinx{cfg: SphinxConfig{MinConfidence: tc.minConf, MaxAcousticGap: tc.maxGap}}
			if got := s.accept(tc.conf, tc.gap); got != tc.want {
				t.Errorf("accept(%v, %v) = %v, want %v", tc.conf, tc.gap, got, tc.want)
			}
		})
	}
}
