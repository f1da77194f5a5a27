// Test of the Linux load source against the running process.

package cpu

import (
	"testing"
	"time"
)

func TestProcStatSource(t *testing.T) {
	src := newLoadSource()
	if src == nil {
		t.Fatal("no load source on Linux (is /proc mounted?)")
	}
	if src.cpus() < 1 {
		t.Fatalf("load source covers %d CPUs", src.cpus())
	}
	u0, ok := src.read()
	if !ok {
		t.Fatal("first reading failed")
	}
	// Burn CPU until the process clock has moved on by 30 ms; the busy
	// ticks of the CPUs (10 ms each) must move with it.
	deadline := time.Now().Add(5 * time.Second)
	var u1 cpuUse
	for x := 1.0; ; x = x*1.0000001 + 1e-9 {
		if u1, ok = src.read(); !ok {
			t.Fatal("reading failed")
		}
		if u1.own-u0.own >= int64(30*time.Millisecond) && u1.busy > u0.busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s of spinning: own CPU %+d ns, busy %+d ns (x %g)", u1.own-u0.own, u1.busy-u0.busy, x)
		}
	}
	if u1.busy < u0.busy || u1.own < u0.own {
		t.Fatalf("readings went back: %+v then %+v", u0, u1)
	}
	if a := testing.AllocsPerRun(20, func() { src.read() }); a != 0 {
		t.Errorf("a reading allocates %.0f times", a)
	}
}
