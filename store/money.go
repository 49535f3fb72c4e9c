package store

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount in integer minor units (cents for USD) of an ISO 4217
// currency. It never passes through a float.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
}

// minorDigits is the number of minor-unit digits of currencies that do not
// have two; every other currency has two.
var minorDigits = map[string]int{
	"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0,
	"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

// Digits returns the number of minor-unit digits of currency (2 unless listed).
func Digits(currency string) int {
	if d, ok := minorDigits[currency]; ok {
		return d
	}
	return 2
}

// String formats m as "USD 321.09".
func (m Money) String() string {
	d := Digits(m.Currency)
	sign, v := "", m.Minor
	if v < 0 {
		sign = "-"
	}
	u := uint64(v)
	if v < 0 {
		u = uint64(-(v + 1)) + 1 // also right for math.MinInt64
	}
	if d == 0 {
		return fmt.Sprintf("%s %s%d", m.Currency, sign, u)
	}
	scale := uint64(1)
	for range d {
		scale *= 10
	}
	return fmt.Sprintf("%s %s%d.%0*d", m.Currency, sign, u/scale, d, u%scale)
}

// ParseMoney parses a decimal amount such as "321.09", "54.1" or "-3" in
// currency (three upper-case letters). It accepts at most the currency's
// minor-unit digits after the point and no exponent, thousands separator or
// currency symbol, so "1,000" and "1.005" (USD) are errors.
func ParseMoney(s, currency string) (Money, error) {
	if !validCurrency(currency) {
		return Money{}, fmt.Errorf("%w: currency %q: want three upper-case letters", ErrInvalid, currency)
	}
	neg := strings.HasPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	d := Digits(currency)
	if whole == "" || !allDigits(whole) || !allDigits(frac) || len(frac) > d || (hasPoint && (frac == "" || d == 0)) {
		return Money{}, fmt.Errorf("%w: amount %q: want digits with at most %d after the point", ErrInvalid, s, d)
	}
	frac += strings.Repeat("0", d-len(frac))
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return Money{}, fmt.Errorf("%w: amount %q: %v", ErrInvalid, s, err)
	}
	if neg {
		v = -v
	}
	return Money{Minor: v, Currency: currency}, nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
