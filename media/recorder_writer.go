package media

// The recorder's writer goroutine: it puts the two channels' frames side
// by side on one timeline and writes them in batches.

const (
	// recWindow is how many slots (20 ms each) the writer holds while
	// waiting for the other channel's frame.
	recWindow = 64
	// recLag: a slot is written, a missing channel as silence, once a frame
	// this many slots later has come (160 ms).
	recLag = 8
	// recBatch is how many slots go to the disk in one write (0.5 s); the
	// rest is written by Close.
	recBatch = 25
)

// recWriter is the state of the writer goroutine.
type recWriter struct {
	r       *Recorder
	base    int64 // the next slot to write
	end     int64 // one past the highest slot received
	have    [recWindow][2]bool
	ring    [recWindow][2 * FrameSamples]int16 // interleaved left/right
	batch   []int16
	written int64 // slots in the file
	err     error // the first write error; nothing is written after it
}

func (w *recWriter) init(r *Recorder) {
	w.r = r
	w.batch = make([]int16, 0, recBatch*2*FrameSamples)
}

// run takes frames until Close, then writes what is left.
func (w *recWriter) run() {
	r := w.r
	defer close(r.done)
	for {
		select {
		case f := <-r.out:
			w.take(f)
		case <-r.quit:
			w.drain()
			for w.base < w.end {
				w.flushSlot()
			}
			w.write()
			return
		}
	}
}

// drain takes the frames still queued.
func (w *recWriter) drain() {
	for {
		select {
		case f := <-w.r.out:
			w.take(f)
		default:
			return
		}
	}
}

// take places one frame on the timeline and returns it to the free list.
func (w *recWriter) take(f *recFrame) {
	defer func() { w.r.free <- f }()
	s := f.slot
	if s < w.base {
		return // later than recLag: its slot was written as silence
	}
	for s >= w.base+recWindow {
		w.flushSlot()
	}
	i := s % recWindow
	if !f.silent {
		row := &w.ring[i]
		for k, v := range f.pcm {
			row[2*k+int(f.ch)] = v
		}
	}
	w.have[i][f.ch] = true
	w.end = max(w.end, s+1)
	for w.base < w.end {
		b := w.base % recWindow
		if !(w.have[b][chanCaller] && w.have[b][chanAgent]) && w.end-w.base <= recLag {
			break
		}
		w.flushSlot()
	}
}

// flushSlot moves slot base to the batch (a channel that never came is
// silence) and clears it for reuse.
func (w *recWriter) flushSlot() {
	i := w.base % recWindow
	w.batch = append(w.batch, w.ring[i][:]...)
	clear(w.ring[i][:])
	w.have[i] = [2]bool{}
	w.base++
	if len(w.batch) == cap(w.batch) { // a long gap flushed at once: write as it goes
		w.write()
	}
}

// write sends the batch to the file. After a failed write (disk full)
// the rest of the call is dropped, counted and logged once.
func (w *recWriter) write() {
	n := len(w.batch) / (2 * FrameSamples)
	if n == 0 {
		return
	}
	defer func() { w.batch = w.batch[:0] }()
	if w.err != nil {
		w.r.dropped.Add(uint64(2 * n))
		return
	}
	if err := w.r.wav.Write(w.batch); err != nil {
		w.err = err
		w.r.dropped.Add(uint64(2 * n))
		w.r.log.Warn("recording: write failed; the rest of the call is not recorded", "error", err)
		return
	}
	w.written += int64(n)
}
