package prompts

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The Say functions turn values into the names of the snippet clips that
// speak them, in order, for a Player and for Catalog.Text. Numbers are read
// the American way, without "and" inside them: 321 is "three hundred twenty
// one".

// sayLimit is the first number SayNumber reads digit by digit.
const sayLimit = 1_000_000_000_000

// scales are the named powers of a thousand, largest first.
var scales = []struct {
	value int64
	name  string
}{
	{1_000_000_000, "num_billion"},
	{1_000_000, "num_million"},
	{1_000, "num_thousand"},
}

// SayNumber speaks n: "num_3", "num_hundred", "num_20", "num_1" for 321.
// Negative numbers start with "num_minus". Magnitudes of a trillion and more
// are read digit by digit.
func SayNumber(n int64) []string {
	if n == 0 {
		return []string{"num_0"}
	}
	var out []string
	if n < 0 {
		out = append(out, "num_minus")
		if n < -sayLimit+1 { // also keeps -n from overflowing
			return append(out, SayDigits(strconv.FormatInt(n, 10)[1:])...)
		}
		n = -n
	}
	if n >= sayLimit {
		return append(out, SayDigits(strconv.FormatInt(n, 10))...)
	}
	for _, s := range scales {
		if q := n / s.value; q > 0 {
			out = appendHundreds(out, q)
			out = append(out, s.name)
			n %= s.value
		}
	}
	return appendHundreds(out, n)
}

// appendHundreds appends the words for 0 < n < 1000 (nothing for 0).
func appendHundreds(out []string, n int64) []string {
	if n >= 100 {
		out = append(out, numName(n/100), "num_hundred")
		n %= 100
	}
	return appendTens(out, n)
}

// appendTens appends the words for 0 < n < 100 (nothing for 0).
func appendTens(out []string, n int64) []string {
	if n >= 20 {
		out = append(out, numName(n/10*10))
		n %= 10
	}
	if n > 0 {
		out = append(out, numName(n))
	}
	return out
}

// numName is the clip of a number that has one: 0–19 and the tens.
func numName(n int64) string { return "num_" + strconv.FormatInt(n, 10) }

// SayDigits speaks s one character at a time, for account, card and
// confirmation numbers: digits as "num_0" ("zero", never "oh", which could be
// heard as a letter) to "num_9", '*' as "word_star", '#' as "word_pound".
// Other characters (spaces, dashes) are skipped.
func SayDigits(s string) []string {
	out := make([]string, 0, len(s))
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			out = append(out, numName(int64(r-'0')))
		case r == '*':
			out = append(out, "word_star")
		case r == '#':
			out = append(out, "word_pound")
		}
	}
	return out
}

// SayMoney speaks an amount given in minor units (cents) of currency, an ISO
// 4217 code. Only USD has words so far; other codes return an error wrapping
// ErrUnsupportedCurrency rather than a wrong currency name.
//
//	32109 → three hundred twenty one dollars and nine cents
//	100   → one dollar
//	5     → five cents
//	0     → zero dollars
//	-250  → minus two dollars and fifty cents
func SayMoney(minor int64, currency string) ([]string, error) {
	if !strings.EqualFold(currency, "USD") {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedCurrency, currency)
	}
	var out []string
	if minor < 0 {
		out = append(out, "num_minus")
	}
	// Split before negating, so the smallest int64 cannot overflow.
	major, cents := minor/100, minor%100
	if major < 0 {
		major = -major
	}
	if cents < 0 {
		cents = -cents
	}
	if major == 0 && cents == 0 {
		return []string{"num_0", "word_dollars"}, nil
	}
	if major > 0 {
		out = append(out, SayNumber(major)...)
		out = append(out, plural(major, "word_dollar", "word_dollars"))
	}
	if cents > 0 {
		if major > 0 {
			out = append(out, "word_and")
		}
		out = append(out, SayNumber(cents)...)
		out = append(out, plural(cents, "word_cent", "word_cents"))
	}
	return out, nil
}

// plural returns one if n is 1, else many.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// SayDate speaks the month and day of t in t's location: "month_december",
// "day_5" for December fifth.
func SayDate(t time.Time) []string {
	return []string{
		"month_" + strings.ToLower(t.Month().String()),
		"day_" + strconv.Itoa(t.Day()),
	}
}

// SayWeekday speaks a day of the week: "weekday_monday".
func SayWeekday(d time.Weekday) []string {
	return []string{"weekday_" + strings.ToLower(d.String())}
}

// SayYear speaks a year the way people say it: 1999 "nineteen ninety nine",
// 1905 "nineteen oh five", 1900 "nineteen hundred", 2005 "two thousand
// five", 2026 "twenty twenty six". Years outside 1000–9999 are plain numbers.
func SayYear(y int) []string {
	if y < 1000 || y > 9999 || (y >= 2000 && y < 2010) || y%1000 == 0 {
		return SayNumber(int64(y))
	}
	hi, lo := int64(y/100), int64(y%100)
	out := appendTens(nil, hi)
	switch {
	case lo == 0:
		return append(out, "num_hundred")
	case lo < 10:
		out = append(out, "num_oh")
	}
	return appendTens(out, lo)
}

// SayMinutes speaks a whole number of minutes: "one minute", "five minutes".
func SayMinutes(n int) []string {
	return append(SayNumber(int64(n)), plural(int64(n), "word_minute", "word_minutes"))
}
