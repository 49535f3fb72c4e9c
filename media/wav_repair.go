package media

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
)

// RepairWAV fixes the sizes in the header of a WAV file written by
// WAVWriter (or a Recorder) that was never closed, e.g. after a crash:
// the file's 44-byte header has zero sizes and the samples run to the end
// of the file. The RIFF and data sizes are set from the file's length (a
// partial last sample frame is cut off). It reports the data bytes now in
// the header. A file that is already consistent is left as it is.
func RepairWAV(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("repair WAV: %w", err)
	}
	defer f.Close()
	var h [wavHeaderLen]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return 0, fmt.Errorf("repair WAV %s: %w: reading header: %w", path, ErrBadWAV, err)
	}
	le := binary.LittleEndian
	if string(h[0:4]) != "RIFF" || string(h[8:16]) != "WAVEfmt " || string(h[36:40]) != "data" {
		return 0, fmt.Errorf("repair WAV %s: %w: not a 44-byte PCM header", path, ErrBadWAV)
	}
	align := int64(le.Uint16(h[32:34]))
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("repair WAV: %w", err)
	}
	data := st.Size() - wavHeaderLen
	if align > 0 {
		data -= data % align
	}
	if data < 0 || data > math.MaxUint32-36 {
		return 0, fmt.Errorf("repair WAV %s: %w: %d data bytes", path, ErrBadWAV, data)
	}
	if err := f.Truncate(wavHeaderLen + data); err != nil {
		return 0, fmt.Errorf("repair WAV: %w", err)
	}
	le.PutUint32(h[4:], uint32(36+data))
	le.PutUint32(h[40:], uint32(data))
	if _, err := f.WriteAt(h[:], 0); err != nil {
		return 0, fmt.Errorf("repair WAV: %w", err)
	}
	return data, f.Sync()
}
