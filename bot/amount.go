package bot

import (
	"fmt"
	"strings"

	"github.com/supportline/ivr/store"
)

// maxAmountDigits bounds the dollars of an amount (a trillion dollars is
// no one's installment, and int64 cents stay far from overflow).
const maxAmountDigits = 12

// ParseAmount reads an amount in dollars into cents: "321.09" (a spoken
// amount's asr value), "54" or, from the keypad, "54*1" ('*' is the
// decimal point; one decimal is tenths). Anything else wraps
// ErrAmountFormat.
func ParseAmount(s string) (int64, error) {
	s = strings.ReplaceAll(s, "*", ".")
	whole, frac, _ := strings.Cut(s, ".")
	if (whole == "" && frac == "") || len(whole) > maxAmountDigits || len(frac) > 2 ||
		!allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("%w: %q", ErrAmountFormat, s)
	}
	var cents int64
	for _, c := range whole {
		cents = cents*10 + int64(c-'0')
	}
	cents *= 100
	switch len(frac) {
	case 1:
		cents += int64(frac[0]-'0') * 10
	case 2:
		cents += int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	return cents, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ValidateAmount checks a payment against the balance: more than zero
// (ErrAmountZero) and no more than the balance (ErrAmountOverBalance).
func ValidateAmount(amount, balance store.Money) error {
	switch {
	case amount.Minor <= 0:
		return ErrAmountZero
	case amount.Minor > balance.Minor:
		return ErrAmountOverBalance
	}
	return nil
}
