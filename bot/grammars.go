package bot

import "github.com/supportline/ivr/asr"

// GrammarPayChoice is the grammar of the payment choice step: "next
// installment", "full balance", "other amount", or an amount right away.
const GrammarPayChoice = "pay_choice"

// Intents of GrammarPayChoice (and keys 1, 2, 3 of the payment choice).
const (
	IntentPayNext  = "pay_next"
	IntentPayFull  = "pay_full"
	IntentPayOther = "pay_other"
)

// PayChoiceGrammar is the payment choice: the three options, an amount
// (asr's amount rules, so the value is parsed the same way), a person, and
// the menu's requests (asr.WithMenuRequests), which the step does not take.
func PayChoiceGrammar() *asr.Grammar {
	amount := asr.AmountGrammar()
	defs := map[string]string{"polite": "please | thanks | thank you", "the": "the | my | a | an"}
	for k, v := range amount.Defs {
		defs[k] = v
	}
	rules := []asr.Rule{
		{Intent: IntentPayNext, Expansion: "[<the>] next (installment | payment) [<polite>]"},
		{Intent: IntentPayNext, Expansion: "[<the>] installment [<polite>]"},
		{Intent: IntentPayFull, Expansion: "[<the>] (full | whole | entire) (balance | amount) [<polite>]"},
		{Intent: IntentPayFull, Expansion: "(everything | all of it | pay it off) [<polite>]"},
		{Intent: IntentPayOther, Expansion: "[<the>] (other | another | different) amount [<polite>]"},
		// "An agent", "the operator"; not "my person" (it took "i'm done
		// thank you" for "my person thank you").
		{Intent: asr.IntentAgent, Expansion: "[a | an | the] (agent | representative | operator | person) [<polite>]"},
	}
	// The menu's requests too: a caller who changes the subject here is
	// asked again instead of being heard as asking for a person.
	defs, all := asr.WithMenuRequests(defs, append(rules, amount.Rules...))
	return &asr.Grammar{
		Name:    GrammarPayChoice,
		Defs:    defs,
		Rules:   all,
		Cues:    amount.Cues,
		Garbage: true,
		Open:    true,
	}
}

// Grammars returns the grammars the bot adds to asr.DefaultGrammars. Build
// the recognizer with both and set Config.PayGrammar to GrammarPayChoice.
func Grammars() []*asr.Grammar {
	return []*asr.Grammar{PayChoiceGrammar()}
}
