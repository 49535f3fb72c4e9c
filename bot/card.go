package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/supportline/ivr/store"
)

// IntentOtherCard is the confirmation step's key 3: pay with a card keyed
// in now instead of the card on file.
const IntentOtherCard = "other_card"

// maxCardTries is how many invalid card numbers, expiry dates or security
// codes a caller may key before being handed to a person.
const maxCardTries = 3

// Card entry errors.
var (
	ErrCardNumber = errors.New("bot: invalid card number")
	ErrCardExpiry = errors.New("bot: invalid card expiry")
	ErrCardCVV    = errors.New("bot: invalid card security code")
)

// keyedCard is a card keyed in on this call. Only the last four digits and
// the expiry outlive their step: the full number and the security code
// are checked in the step that takes them and dropped (a payment
// processor would get them there). Nothing of it is logged or stored but
// the last four.
type keyedCard struct {
	last4       string
	expMonth    int
	expYear     int // four digits
	haveNumber  bool
	complete    bool // number, expiry and code all taken
	numberTries int
	expiryTries int
	cvvTries    int
}

// ValidCardNumber checks a keyed card number: 13 to 19 digits with a
// valid Luhn check digit (ISO/IEC 7812-1). The error never holds digits.
func ValidCardNumber(n string) error {
	if len(n) < 13 || len(n) > 19 {
		return fmt.Errorf("%w: %d digits, want 13 to 19", ErrCardNumber, len(n))
	}
	sum := 0
	for i := range len(n) {
		c := n[len(n)-1-i]
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: not all digits", ErrCardNumber)
		}
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if sum%10 != 0 {
		return fmt.Errorf("%w: check digit", ErrCardNumber)
	}
	return nil
}

// ParseExpiry reads MMYY and checks the card has not expired by now (a
// card is valid to the end of its month). The error never holds digits.
func ParseExpiry(mmyy string, now time.Time) (month, year int, err error) {
	if len(mmyy) != 4 {
		return 0, 0, fmt.Errorf("%w: %d digits, want MMYY", ErrCardExpiry, len(mmyy))
	}
	m, err1 := strconv.Atoi(mmyy[:2])
	y, err2 := strconv.Atoi(mmyy[2:])
	if err1 != nil || err2 != nil || m < 1 || m > 12 {
		return 0, 0, fmt.Errorf("%w: not a month and year", ErrCardExpiry)
	}
	y += 2000
	if end := time.Date(y, time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC); !now.Before(end) {
		return 0, 0, fmt.Errorf("%w: expired", ErrCardExpiry)
	}
	return m, y, nil
}

// ValidCVV checks a security code: 3 or 4 digits.
func ValidCVV(cvv string) error {
	if len(cvv) < 3 || len(cvv) > 4 {
		return fmt.Errorf("%w: %d digits, want 3 or 4", ErrCardCVV, len(cvv))
	}
	for i := range len(cvv) {
		if cvv[i] < '0' || cvv[i] > '9' {
			return fmt.Errorf("%w: not all digits", ErrCardCVV)
		}
	}
	return nil
}

// isCardStep reports whether id is one of the card entry steps.
func isCardStep(id stepID) bool {
	return id == stepCardNumber || id == stepCardExpiry || id == stepCardCVV
}

// cardLast4 is the card the payment is made with: the keyed card when
// the caller keyed one, else the card on file.
func (b *Bot) cardLast4() string {
	if b.pay.card.complete {
		return b.pay.card.last4
	}
	return b.acct.CardLast4
}

// otherCard starts the entry of a different card.
func (b *Bot) otherCard() (stepID, error) {
	b.pay.card = keyedCard{}
	return stepCardNumber, nil
}

// onCardNumber takes the card number (Luhn-checked) and keeps its last four.
func (b *Bot) onCardNumber(ctx context.Context, a answer) (stepID, error) {
	if err := ValidCardNumber(a.value); err != nil {
		b.pay.card.numberTries++
		return b.cardRefused(ctx, err, b.pay.card.numberTries, stepCardNumber, "card_number_invalid")
	}
	b.pay.card.last4, b.pay.card.haveNumber = a.value[len(a.value)-4:], true
	return stepCardExpiry, nil
}

// onCardExpiry takes the expiry date (MMYY, not in the past).
func (b *Bot) onCardExpiry(ctx context.Context, a answer) (stepID, error) {
	m, y, err := ParseExpiry(a.value, b.cfg.Now())
	if err != nil {
		b.pay.card.expiryTries++
		return b.cardRefused(ctx, err, b.pay.card.expiryTries, stepCardExpiry, "card_expiry_invalid")
	}
	b.pay.card.expMonth, b.pay.card.expYear = m, y
	return stepCardCVV, nil
}

// onCardCVV takes the security code and goes back to the confirmation,
// now with the keyed card.
func (b *Bot) onCardCVV(ctx context.Context, a answer) (stepID, error) {
	if err := ValidCVV(a.value); err != nil {
		b.pay.card.cvvTries++
		return b.cardRefused(ctx, err, b.pay.card.cvvTries, stepCardCVV, "card_cvv_invalid")
	}
	b.pay.card.complete = true
	b.log.Info("bot: card keyed", "card_last4", b.pay.card.last4)
	return stepPayConfirm, nil
}

// cardRefused says why an entry was refused and asks again; the third
// refusal hands the call to a person. err holds no digits.
func (b *Bot) cardRefused(ctx context.Context, err error, tries int, again stepID, why string) (stepID, error) {
	b.log.Info("bot: card entry refused", "step", b.steps[again].name, "why", err.Error(), "tries", tries)
	if tries >= maxCardTries {
		return b.handover(ctx, store.HandoverBotFailed, b.steps[again].name+": invalid", why, "handoff_frustration")
	}
	return b.sayBefore(ctx, again, why)
}
