package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// pauseLabel names the recording's silent windows in its cue list.
const pauseLabel = "PCI pause"

// cueChunks are a "cue " chunk with a point at the start of each paused
// window and a LIST/adtl chunk that makes each a labelled region (an
// "ltxt" of the window's length and a "labl" of pauseLabel), as in the
// RIFF spec's cue and associated data lists. Editors show them as
// regions; readers that do not know them skip them.
func cueChunks(paused []PauseInterval, frames int64) []byte {
	le := binary.LittleEndian
	cue := le.AppendUint32([]byte("cue "), uint32(4+24*len(paused)))
	cue = le.AppendUint32(cue, uint32(len(paused)))
	var adtl []byte
	for i, p := range paused {
		id := uint32(i + 1)
		start := min(int64(p.Start/(time.Second/SampleRate)), frames)
		end := min(int64(p.End/(time.Second/SampleRate)), frames)
		cue = le.AppendUint32(cue, id)
		cue = le.AppendUint32(cue, uint32(start)) // dwPosition
		cue = append(cue, "data"...)
		cue = le.AppendUint32(cue, 0) // dwChunkStart
		cue = le.AppendUint32(cue, 0) // dwBlockStart
		cue = le.AppendUint32(cue, uint32(start))

		adtl = append(adtl, "ltxt"...)
		adtl = le.AppendUint32(adtl, 20)
		adtl = le.AppendUint32(adtl, id)
		adtl = le.AppendUint32(adtl, uint32(max(end-start, 0)))
		adtl = append(adtl, "rgn "...)
		adtl = append(adtl, 0, 0, 0, 0, 0, 0, 0, 0) // country, language, dialect, code page
		label := append([]byte(pauseLabel), 0)
		if len(label)%2 == 1 {
			label = append(label, 0)
		}
		adtl = append(adtl, "labl"...)
		adtl = le.AppendUint32(adtl, uint32(4+len(pauseLabel)+1))
		adtl = le.AppendUint32(adtl, id)
		adtl = append(adtl, label...)
	}
	list := le.AppendUint32([]byte("LIST"), uint32(4+len(adtl)))
	list = append(append(list, "adtl"...), adtl...)
	return append(cue, list...)
}

// appendCues writes the cue chunks after the data chunk of a closed
// WAVWriter's file and sets the RIFF size to cover them.
func appendCues(w io.WriteSeeker, ww *WAVWriter, paused []PauseInterval) error {
	if len(paused) == 0 || ww.err != nil {
		return nil
	}
	frames := ww.n / int64(2*ww.channels)
	chunks := cueChunks(paused, frames)
	dataEnd := int64(wavHeaderLen) + ww.n + ww.n&1
	if _, err := w.Seek(dataEnd, io.SeekStart); err != nil {
		return fmt.Errorf("writing WAV cues: %w", err)
	}
	if _, err := w.Write(chunks); err != nil {
		return fmt.Errorf("writing WAV cues: %w", err)
	}
	var size [4]byte
	binary.LittleEndian.PutUint32(size[:], uint32(dataEnd+int64(len(chunks))-8))
	if _, err := w.Seek(4, io.SeekStart); err != nil {
		return fmt.Errorf("writing WAV cues: %w", err)
	}
	if _, err := w.Write(size[:]); err != nil {
		return fmt.Errorf("writing WAV cues: %w", err)
	}
	_, err := w.Seek(0, io.SeekEnd)
	return err
}
