// Tests of the pool's load watch: the /proc/stat parser, the thread-count
// rule, the window logic with a scripted source, and a pool running ops on
// fewer threads than it has.

package cpu

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestForEachCPU(t *testing.T) {
	text := "cpu  300 5 70 1000 10 0 3 0 0 0\n" +
		"cpu0 100 2 30 500 4 1 1 7 9 0\n" +
		"cpu1 200 3 40 500 6 0 2 0 0 0\n" +
		"cpu12 1 1 1 99 99 1 1 1\n" +
		"intr 123 4 5\n" +
		"cpu3 9 9 9 9 9 9 9 9\n" // after a non-CPU line: not read
	got := map[int]int64{}
	forEachCPU([]byte(text), func(cpu int, busy int64) { got[cpu] = busy })
	want := map[int]int64{0: 100 + 2 + 30 + 1 + 1 + 7, 1: 200 + 3 + 40 + 2, 12: 6}
	if len(got) != len(want) {
		t.Fatalf("got CPUs %v, want %v", got, want)
	}
	for cpu, b := range want {
		if got[cpu] != b {
			t.Errorf("cpu%d busy %d, want %d", cpu, got[cpu], b)
		}
	}
	// A line cut off by the end of the buffer is skipped.
	got = map[int]int64{}
	forEachCPU([]byte("cpu0 1 1 1 1 1 1 1 1\ncpu1 5 5"), func(cpu int, busy int64) { got[cpu] = busy })
	if len(got) != 1 || got[0] != 6 {
		t.Errorf("cut-off text: got %v, want only cpu0 = 6", got)
	}
	forEachCPU([]byte("garbage\ncpu0 1 1 1 1 1 1 1 1\n"), func(cpu int, _ int64) {
		t.Errorf("cpu%d read from text that does not start with CPU lines", cpu)
	})
}

// FuzzForEachCPU feeds the /proc/stat parser any text: it must not panic,
// and what it reports are CPU numbers and busy times that are not
// negative (a number too large for an int ends the parse).
func FuzzForEachCPU(f *testing.F) {
	f.Add([]byte("cpu  1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\nintr 1\n"))
	f.Add([]byte("cpu0 99999999999999999999 1 1 1\ncpu1 1\n"))
	f.Add([]byte("cpu0 9000000000000000000 9000000000000000000 1 1 1\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		forEachCPU(text, func(cpu int, busy int64) {
			if cpu < 0 || busy < 0 {
				t.Fatalf("cpu%d busy %d from %q", cpu, busy, text)
			}
		})
	})
}

func TestThreadsFor(t *testing.T) {
	for _, c := range []struct {
		k, n  int
		spare float64
		want  int
	}{
		{2, 2, 2.0, 2},  // quiet
		{2, 2, 1.55, 2}, // less than half a core taken: keep both
		{2, 2, 1.4, 1},  // a busy process beside: the caller alone
		{2, 2, 1.0, 1},
		{1, 2, 1.6, 1}, // not back up until within 0.3 of two
		{1, 2, 1.75, 2},
		{2, 2, -0.5, 1}, // never below one
		{2, 2, 5, 2},    // never above n
		{8, 8, 6.6, 7},
		{1, 4, 3.8, 4},
		{4, 4, 1.0, 1},
		{4, 4, 2.0, 2}, // four threads on a quiet two-CPU machine: two
		{3, 8, 3.4, 3},
	} {
		if got := threadsFor(c.k, c.n, c.spare); got != c.want {
			t.Errorf("threadsFor(%d, %d, %.2f) = %d, want %d", c.k, c.n, c.spare, got, c.want)
		}
	}
}

// scriptSource plays back readings.
type scriptSource struct {
	use  []cpuUse
	next int
	ncpu int
}

func (s *scriptSource) read() (cpuUse, bool) {
	if s.next >= len(s.use) {
		return cpuUse{}, false
	}
	s.next++
	return s.use[s.next-1], true
}

func (s *scriptSource) cpus() int { return s.ncpu }

func TestLoadWatch(t *testing.T) {
	const ms = int64(time.Millisecond)
	p := int64(watchEvery)
	src := &scriptSource{ncpu: 2, use: []cpuUse{
		{busy: 0, own: 0},
		{busy: 2 * p, own: p},               // others kept a whole core busy
		{busy: 2*p + p + 20*ms, own: 2 * p}, // others 0.1 core: back to two
		{busy: 10 * p, own: 3 * p},          // after an idle gap: only a new window
		{busy: 10*p + 2*p, own: 4 * p},      // others one core again
	}}
	w := loadWatch{src: src}
	now := int64(time.Second)
	k := w.update(now, 2, 2) // first reading: nothing to compare with
	if k != 2 || src.next != 1 {
		t.Fatalf("first update: k %d after %d readings", k, src.next)
	}
	if k = w.update(now+p/2, k, 2); k != 2 || src.next != 1 {
		t.Fatalf("an update before watchEvery read the source (k %d, %d readings)", k, src.next)
	}
	now += p
	if k = w.update(now, k, 2); k != 1 {
		t.Fatalf("others at one core of two: %d threads, want 1", k)
	}
	now += p
	if k = w.update(now, k, 2); k != 2 {
		t.Fatalf("others at 0.1 core: %d threads, want 2", k)
	}
	now += 5 * p
	if k = w.update(now, k, 2); k != 2 {
		t.Fatalf("a reading after an idle gap changed the threads to %d", k)
	}
	now += p
	if k = w.update(now, k, 2); k != 1 {
		t.Fatalf("others at one core after the gap: %d threads, want 1", k)
	}
	now += p
	if k = w.update(now, k, 2); k != 1 {
		t.Fatalf("a failed reading changed the threads to %d", k)
	}
	var none loadWatch
	if k = none.update(now, 3, 4); k != 3 {
		t.Fatalf("a watch without a source changed the threads to %d", k)
	}
}

// widTask records the highest worker id that ran a chunk; each chunk
// takes 20 µs, so that workers that are woken do get chunks.
type widTask struct {
	countTask
	maxWid atomic.Int32
}

func (c *widTask) run(wid, lo, hi int) {
	for start := time.Now(); time.Since(start) < 20*time.Microsecond; {
	}
	for {
		m := c.maxWid.Load()
		if int32(wid) <= m || c.maxWid.CompareAndSwap(m, int32(wid)) {
			break
		}
	}
	c.countTask.run(wid, lo, hi)
}

// TestPoolWidth runs ops while the pool uses fewer threads than it has:
// every index still runs once, and no worker beyond the width runs a chunk.
func TestPoolWidth(t *testing.T) {
	p := newPool(3)
	defer p.close()
	p.watch.src = nil // the width is set by hand here
	var seen [3]bool  // some op saw this worker run, at full width
	for _, use := range []int32{1, 2, 3, 1, 2} {
		p.use.Store(use)
		for i := range 100 {
			if i%50 == 0 {
				time.Sleep(2 * spinFor) // let the workers park
			}
			total := 1 + i*13%700
			c := &widTask{countTask: countTask{seen: make([]int32, total)}}
			p.parallel(c, total, 1)
			for j, s := range c.seen {
				if s != 1 {
					t.Fatalf("width %d total %d: index %d run %d times", use, total, j, s)
				}
			}
			w := c.maxWid.Load()
			if w >= use {
				t.Fatalf("width %d: worker %d ran a chunk", use, w)
			}
			if use == 3 {
				seen[w] = true
			}
		}
	}
	t.Logf("highest worker seen at full width: %v", seen) // on a loaded machine a worker may start too late for any chunk
}
