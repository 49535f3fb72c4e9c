package media

import "errors"

// Sentinel errors of the media package.
var (
	ErrUnsupportedCodec = errors.New("media: unsupported codec")
)
