// This file holds the part of the pool's load watch that every platform
// shares: on a machine where other processes keep some cores busy, ops run
// on as many pool threads as the cores they leave (and a pool given more
// threads than the process has CPUs uses one a CPU), because two
// barrier-synchronised threads sharing one core with a busy process wait
// on each other (a thread descheduled mid-chunk holds the op for a
// scheduler tick) and generate slower than one thread alone. The figure
// is read from the operating system (loadwatch_linux.go); where it cannot
// be, the pool keeps all its threads.

package cpu

import (
	"bytes"
	"math"
	"time"
)

// watchEvery is how often the dispatching goroutine reads the other load:
// long enough that the 10 ms accounting ticks of /proc/stat round to a
// few percent of a core, short enough that a competing process is seen
// within a fraction of a second.
const watchEvery = 200 * time.Millisecond

// cpuUse is what a load source reads: the busy time of the CPUs the
// process may run on (every process's, steal time included) and the
// process's own CPU time, both in nanoseconds since some fixed point.
type cpuUse struct {
	busy, own int64
}

// loadSource reads cpuUse; cpus is how many CPUs its busy time covers.
type loadSource interface {
	read() (cpuUse, bool)
	cpus() int
}

// loadWatch turns successive readings into the pool's thread count.
type loadWatch struct {
	src  loadSource // nil: no watch
	at   int64      // pool clock of the last reading, 0 before the first
	last cpuUse
}

// update takes a reading at pool clock now when watchEvery has passed and
// returns the threads to use from k in use now, out of n. Readings further
// apart than two periods (the process was idle) only start a new window.
func (w *loadWatch) update(now int64, k, n int) int {
	if w.src == nil || now-w.at < int64(watchEvery) {
		return k
	}
	u, ok := w.src.read()
	if !ok {
		return k
	}
	dt := now - w.at
	prev := w.last
	first := w.at == 0
	w.at, w.last = now, u
	if first || dt > 2*int64(watchEvery) {
		return k
	}
	others := float64((u.busy-prev.busy)-(u.own-prev.own)) / float64(dt)
	return threadsFor(k, n, float64(w.src.cpus())-others)
}

// threadsFor is the thread count for spare cores (the CPUs the process
// may use less the cores other processes kept busy), starting from k of
// n: down to spare rounded as soon as that is below k, up only when spare
// is within 0.3 of the higher count, so that a reading near a half core
// does not flip the pool back and forth. Never below 1 or above n.
func threadsFor(k, n int, spare float64) int {
	clamp := func(v float64) int { return max(1, min(n, int(v))) }
	if down := clamp(spare + 0.5); down < k {
		return down
	}
	if up := clamp(spare + 0.3); up > k {
		return up
	}
	return k
}

// forEachCPU calls f with each per-CPU line of /proc/stat text ("cpuN
// user nice system idle iowait irq softirq steal ..."): the CPU number and
// its busy ticks (everything but idle and iowait; guest time is part of
// user already). It stops at the first line that is not a CPU line, and
// skips the all-CPU line and a line cut off by the end of the text.
func forEachCPU(text []byte, f func(cpu int, busy int64)) {
	for len(text) > 0 {
		nl := bytes.IndexByte(text, '\n')
		if nl < 0 {
			return // cut off
		}
		line := text[:nl]
		text = text[nl+1:]
		if len(line) < 4 || string(line[:3]) != "cpu" {
			return
		}
		if line[3] == ' ' {
			continue // the all-CPU line
		}
		cpu, rest, ok := parseUint(line[3:])
		if !ok {
			return
		}
		var busy int64
		for field := 0; field < 8; field++ {
			var v int
			if v, rest, ok = parseUint(skipSpaces(rest)); !ok {
				break
			}
			if field != 3 && field != 4 && int64(v) <= math.MaxInt64-busy { // idle, iowait
				busy += int64(v)
			}
		}
		f(cpu, busy)
	}
}

func skipSpaces(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

// parseUint reads a decimal number at the start of b; one too large for
// an int is not a number.
func parseUint(b []byte) (v int, rest []byte, ok bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		d := int(b[i] - '0')
		if v > (math.MaxInt-d)/10 {
			return 0, b, false
		}
		v = v*10 + d
		i++
	}
	return v, b[i:], i > 0
}
