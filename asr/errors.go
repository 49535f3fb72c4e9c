package asr

import "errors"

// Sentinel errors of the asr package.
var (
	// ErrModel means the acoustic model or dictionary could not be loaded.
	ErrModel = errors.New("asr: model")
	// ErrGrammar means a grammar failed to compile.
	ErrGrammar = errors.New("asr: grammar")
	// ErrUnknownGrammar means a stream asked for a grammar the recognizer does not hold.
	ErrUnknownGrammar = errors.New("asr: unknown grammar")
	// ErrDecoder means the decoder failed during an utterance.
	ErrDecoder = errors.New("asr: decoder")
	// ErrClosed means the stream or recognizer is closed.
	ErrClosed = errors.New("asr: closed")
	// ErrFrameSize means a frame was not 20 ms of 8 kHz audio.
	ErrFrameSize = errors.New("asr: frame size")
	// ErrCorpus means a corpus file is malformed.
	ErrCorpus = errors.New("asr: corpus")
)
