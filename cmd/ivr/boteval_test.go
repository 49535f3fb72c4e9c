package main

import "testing"

func TestFrustrationSettings(t *testing.T) {
	tests := []struct {
		in      []string
		ok      bool
		thresh  float64
		louderW float64
	}{
		{nil, true, 0, 0},
		{[]string{"threshold=0.8", "louder=0.5"}, true, 0.8, 0.5},
		{[]string{"threshold"}, false, 0, 0},
		{[]string{"threshold=high"}, false, 0, 0},
		{[]string{"volume=1"}, false, 0, 0},
	}
	for _, tt := range tests {
		fc, err := frustrationSettings(tt.in)
		if (err == nil) != tt.ok || (tt.ok && (fc.Threshold != tt.thresh || fc.Louder != tt.louderW)) {
			t.Errorf("%q: %+v, %v", tt.in, fc, err)
		}
	}
}
