package store

import (
	"errors"
	"math"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in, cur string
		want    int64
		err     bool
	}{
		{"321.09", "USD", 32109, false},
		{"54.1", "USD", 5410, false},
		{"0", "USD", 0, false},
		{"7", "USD", 700, false},
		{"-3.50", "USD", -350, false},
		{"500", "JPY", 500, false},
		{"1.234", "KWD", 1234, false},
		{"1.005", "USD", 0, true},
		{"1,000", "USD", 0, true},
		{"1.", "USD", 0, true},
		{".5", "USD", 0, true},
		{"", "USD", 0, true},
		{"1e3", "USD", 0, true},
		{"5.0", "JPY", 0, true},
		{"12", "usd", 0, true},
		{"99999999999999999999", "USD", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in+"_"+tt.cur, func(t *testing.T) {
			m, err := ParseMoney(tt.in, tt.cur)
			if tt.err {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("ParseMoney(%q) = %v, %v; want ErrInvalid", tt.in, m, err)
				}
				return
			}
			if err != nil || m != (Money{tt.want, tt.cur}) {
				t.Fatalf("ParseMoney(%q) = %v, %v; want %d", tt.in, m, err, tt.want)
			}
		})
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		m    Money
		want string
	}{
		{Money{32109, "USD"}, "USD 321.09"},
		{Money{5, "USD"}, "USD 0.05"},
		{Money{0, "USD"}, "USD 0.00"},
		{Money{-350, "USD"}, "USD -3.50"},
		{Money{500, "JPY"}, "JPY 500"},
		{Money{1234, "KWD"}, "KWD 1.234"},
		{Money{math.MinInt64, "USD"}, "USD -92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.want)
		}
		if tt.m.Minor == math.MinInt64 {
			continue
		}
		if back, err := ParseMoney(tt.want[4:], tt.m.Currency); err != nil || back != tt.m {
			t.Errorf("round trip %q: %v, %v", tt.want, back, err)
		}
	}
}
