package prompts

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// words turns clip names into a readable string: "num_3 num_hundred" →
// "3 hundred".
func words(names []string) string {
	r := strings.NewReplacer("num_", "", "word_", "", "month_", "", "day_", "d", "weekday_", "")
	return r.Replace(strings.Join(names, " "))
}

func TestSayNumber(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0"},
		{7, "7"},
		{13, "13"},
		{20, "20"},
		{21, "20 1"},
		{99, "90 9"},
		{100, "1 hundred"},
		{101, "1 hundred 1"},
		{110, "1 hundred 10"},
		{321, "3 hundred 20 1"},
		{1000, "1 thousand"},
		{1001, "1 thousand 1"},
		{12345, "12 thousand 3 hundred 40 5"},
		{100000, "1 hundred thousand"},
		{1_000_000, "1 million"},
		{2_000_019, "2 million 19"},
		{999_999_999_999, "9 hundred 90 9 billion 9 hundred 90 9 million 9 hundred 90 9 thousand 9 hundred 90 9"},
		{1_000_000_000_000, "1 0 0 0 0 0 0 0 0 0 0 0 0"},
		{-5, "minus 5"},
		{-1_000_000_000_000, "minus 1 0 0 0 0 0 0 0 0 0 0 0 0"},
		{math.MinInt64, "minus 9 2 2 3 3 7 2 0 3 6 8 5 4 7 7 5 8 0 8"},
	}
	for _, tt := range tests {
		if got := words(SayNumber(tt.n)); got != tt.want {
			t.Errorf("SayNumber(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestSayMoney(t *testing.T) {
	tests := []struct {
		minor int64
		cur   string
		want  string
	}{
		{32109, "USD", "3 hundred 20 1 dollars and 9 cents"},
		{100, "USD", "1 dollar"},
		{101, "usd", "1 dollar and 1 cent"},
		{0, "USD", "0 dollars"},
		{5, "USD", "5 cents"},
		{99, "USD", "90 9 cents"},
		{200, "USD", "2 dollars"},
		{150000, "USD", "1 thousand 5 hundred dollars"},
		{-250, "USD", "minus 2 dollars and 50 cents"},
		{-1, "USD", "minus 1 cent"},
	}
	for _, tt := range tests {
		got, err := SayMoney(tt.minor, tt.cur)
		if err != nil || words(got) != tt.want {
			t.Errorf("SayMoney(%d, %s) = %q, %v; want %q", tt.minor, tt.cur, words(got), err, tt.want)
		}
	}
	if _, err := SayMoney(math.MinInt64, "USD"); err != nil {
		t.Error(err)
	}
	for _, cur := range []string{"EUR", "", "US"} {
		if _, err := SayMoney(100, cur); !errors.Is(err, ErrUnsupportedCurrency) {
			t.Errorf("SayMoney(100, %q) error = %v", cur, err)
		}
	}
}

func TestSayDate(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 12, 5, 9, 0, 0, 0, time.UTC), "december d5"},
		{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "february d29"},
		{time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), "january d31"},
		// The caller's calendar day, not UTC's.
		{time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC).In(ny), "february d28"},
	}
	for _, tt := range tests {
		if got := words(SayDate(tt.t)); got != tt.want {
			t.Errorf("SayDate(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
	if got := SayWeekday(time.Friday); !slices.Equal(got, []string{"weekday_friday"}) {
		t.Errorf("SayWeekday = %v", got)
	}
}

func TestSayYear(t *testing.T) {
	tests := []struct {
		y    int
		want string
	}{
		{1999, "19 90 9"},
		{1905, "19 oh 5"},
		{1900, "19 hundred"},
		{2000, "2 thousand"},
		{2005, "2 thousand 5"},
		{2010, "20 10"},
		{2026, "20 20 6"},
		{2100, "20 1 hundred"},
		{999, "9 hundred 90 9"},
	}
	for _, tt := range tests {
		if got := words(SayYear(tt.y)); got != tt.want {
			t.Errorf("SayYear(%d) = %q, want %q", tt.y, got, tt.want)
		}
	}
}

func TestSayDigitsAndMinutes(t *testing.T) {
	if got := words(SayDigits("40-12 *#x")); got != "4 0 1 2 star pound" {
		t.Errorf("SayDigits = %q", got)
	}
	if got := words(SayMinutes(1)); got != "1 minute" {
		t.Errorf("SayMinutes(1) = %q", got)
	}
	if got := words(SayMinutes(25)); got != "20 5 minutes" {
		t.Errorf("SayMinutes(25) = %q", got)
	}
}
