package asr

import "testing"

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in    string
		cents int
		ok    bool
	}{
		{"three hundred twenty one dollars and nine cents", 32109, true},
		{"fifty dollars", 5000, true},
		{"forty five fifty", 4550, true},
		{"twelve cents", 12, true},
		{"one thousand two hundred and five dollars", 120500, true},
		{"a hundred dollars", 10000, true},
		{"two thousand", 200000, true},
		{"ninety nine dollars ninety nine cents", 9999, true},
		{"dollars", 0, false},
		{"five hundred cents", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, ok := ParseAmount(tt.in)
			if ok != tt.ok || (ok && c != tt.cents) {
				t.Errorf("ParseAmount(%q) = %d, %v; want %d, %v", tt.in, c, ok, tt.cents, tt.ok)
			}
		})
	}
	if d, ok := ParseDigits("four oh one two"); !ok || d != "4012" {
		t.Errorf("ParseDigits = %q %v", d, ok)
	}
}
