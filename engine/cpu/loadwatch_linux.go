// This file reads the other load on Linux: the busy ticks of the process's
// CPUs from /proc/stat and the process's CPU clock. The file stays open
// and is read again from its start into a buffer sized once, so a reading
// allocates nothing.

package cpu

import (
	"bytes"
	"os"

	"golang.org/x/sys/unix"
)

// userHZ is the unit of /proc/stat's times (USER_HZ, 100 on every
// architecture Go runs Linux on).
const userHZ = 100

// procStat is the Linux load source.
type procStat struct {
	fd   int
	in   []bool // in[i]: CPU i is in the process's affinity set
	ncpu int
	buf  []byte
}

// newLoadSource opens /proc/stat, or returns nil when it cannot be read.
func newLoadSource() loadSource {
	whole, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	end := bytes.Index(whole, []byte("\nintr"))
	if end < 0 {
		end = len(whole)
	}
	var set unix.CPUSet
	haveSet := unix.SchedGetaffinity(0, &set) == nil
	s := &procStat{buf: make([]byte, end+4096)}
	forEachCPU(whole, func(cpu int, _ int64) {
		for len(s.in) <= cpu {
			s.in = append(s.in, false)
		}
		if !haveSet || set.IsSet(cpu) {
			s.in[cpu] = true
			s.ncpu++
		}
	})
	if s.ncpu == 0 {
		return nil
	}
	fd, err := unix.Open("/proc/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	s.fd = fd
	return s
}

func (s *procStat) cpus() int { return s.ncpu }

// read sums the busy ticks of the watched CPUs and takes the process's CPU
// clock.
func (s *procStat) read() (cpuUse, bool) {
	n, err := unix.Pread(s.fd, s.buf, 0)
	if err != nil || n <= 0 {
		return cpuUse{}, false
	}
	var busy int64
	forEachCPU(s.buf[:n], func(cpu int, ticks int64) {
		if cpu < len(s.in) && s.in[cpu] {
			busy += ticks
		}
	})
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return cpuUse{}, false
	}
	return cpuUse{busy: busy * (1e9 / userHZ), own: ts.Nano()}, true
}
