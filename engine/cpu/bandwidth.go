// This file measures the host's memory read bandwidth with the backend's
// own workers, so a benchmark can put a decode rate (bytes per token times
// tokens per second) next to what the machine can deliver in the same run.

package cpu

import "time"

// bandwidthBytes is the buffer ReadBandwidth streams: well beyond any
// last-level cache (AMD EPYC 32 MiB per CCD), small enough to allocate
// briefly on a shared host.
const bandwidthBytes = 128 << 20

// readTask sums chunks of a float32 buffer; sink keeps the sums live.
type readTask struct {
	x    []float32
	sink [64]float32
}

// readChunk is the floats one pool index covers (256 KiB).
const readChunk = 64 << 10

func (t *readTask) run(wid, lo, hi int) {
	var s float32
	for c := lo; c < hi; c++ {
		x := t.x[c*readChunk : (c+1)*readChunk]
		s += dot(x, x) // the second operand hits L1: one stream from memory
	}
	t.sink[wid%len(t.sink)] += s
}

// ReadBandwidth returns the memory read bandwidth in bytes per second that
// the backend's workers reach streaming a 128 MiB buffer: the best of eight
// passes (the best, because other processes on a shared host only ever
// slow a pass down).
func (b *Backend) ReadBandwidth() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := &readTask{x: make([]float32, bandwidthBytes/4)}
	for i := range t.x {
		t.x[i] = 1
	}
	best := 0.0
	for range 8 {
		start := time.Now()
		b.pool.parallel(t, len(t.x)/readChunk, 1)
		best = max(best, float64(bandwidthBytes)/time.Since(start).Seconds())
	}
	return best
}
