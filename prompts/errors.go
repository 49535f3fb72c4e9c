package prompts

import "errors"

// Sentinel errors of the prompts package. Errors returned by Load name the
// file they are about and wrap one of these.
var (
	// ErrBadCatalog means catalog.tsv is missing or has a malformed line.
	ErrBadCatalog = errors.New("prompts: bad catalog")
	// ErrMissingPrompt means a catalog entry has no audio file.
	ErrMissingPrompt = errors.New("prompts: missing prompt file")
	// ErrBadPrompt means a prompt file could not be decoded or holds no audio.
	ErrBadPrompt = errors.New("prompts: bad prompt file")
	// ErrUnknownPrompt means a name is not in the catalog.
	ErrUnknownPrompt = errors.New("prompts: unknown prompt")
	// ErrUnsupportedCurrency means SayMoney has no words for the currency.
	ErrUnsupportedCurrency = errors.New("prompts: unsupported currency")
)
