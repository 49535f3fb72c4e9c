package asr

import (
	"fmt"
	"strings"
)

var digitWords = map[string]byte{
	"zero": '0', "oh": '0', "one": '1', "two": '2', "three": '3', "four": '4',
	"five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9',
}

var smallNumbers = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
	"fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
	"nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
	"seventy": 70, "eighty": 80, "ninety": 90,
}

// ParseDigits turns spoken digits ("four oh one two") into "4012".
func ParseDigits(words string) (string, bool) {
	var b strings.Builder
	for _, w := range strings.Fields(words) {
		d, ok := digitWords[w]
		if !ok {
			return "", false
		}
		b.WriteByte(d)
	}
	return b.String(), b.Len() > 0
}

// parseNumber reads a spoken whole number from the front of ws and returns
// it with the words left over.
func parseNumber(ws []string) (n int, rest []string, ok bool) {
	total, cur := 0, 0
	i := 0
	for ; i < len(ws); i++ {
		w := ws[i]
		switch {
		case w == "and" && ok:
			// "hundred and five": "and" joins parts of one number only when a
			// number word follows.
			if i+1 < len(ws) {
				if _, num := smallNumbers[ws[i+1]]; num {
					continue
				}
			}
			return total + cur, ws[i:], ok
		case w == "a" && i+1 < len(ws) && ws[i+1] == "hundred":
			cur = 1
		case w == "hundred":
			if cur == 0 {
				cur = 1
			}
			cur *= 100
		case w == "thousand":
			if cur == 0 {
				cur = 1
			}
			total += cur * 1000
			cur = 0
		default:
			v, num := smallNumbers[w]
			if !num {
				return total + cur, ws[i:], ok
			}
			// A second number after a complete tens or units value starts a
			// new number ("forty five fifty" = 45 then 50).
			if ok && cur%100 != 0 && (v >= 10 || cur%10 != 0) {
				return total + cur, ws[i:], ok
			}
			if ok && cur%100 != 0 && cur%10 == 0 && v >= 10 {
				return total + cur, ws[i:], ok
			}
			cur += v
		}
		ok = true
	}
	return total + cur, ws[i:], ok
}

// ParseAmount turns a spoken amount into cents: "three hundred twenty one
// dollars and nine cents" is 32109, "forty five fifty" is 4550.
func ParseAmount(words string) (int, bool) {
	ws := strings.Fields(words)
	n, rest, ok := parseNumber(ws)
	if !ok {
		return 0, false
	}
	if len(rest) > 0 && (rest[0] == "cent" || rest[0] == "cents") {
		return n, len(rest) == 1 && n < 100
	}
	if len(rest) > 0 && (rest[0] == "dollar" || rest[0] == "dollars") {
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] == "and" {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return n * 100, true
	}
	c, rest, ok := parseNumber(rest)
	if !ok || c >= 100 {
		return 0, false
	}
	if len(rest) > 0 && (rest[0] == "cent" || rest[0] == "cents") {
		rest = rest[1:]
	}
	return n*100 + c, len(rest) == 0
}

// FormatCents writes cents as dollars, e.g. 32109 as "321.09".
func FormatCents(c int) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
