//go:build unix

// This file reads the process's CPU time for the benchmarks: on a shared,
// oversubscribed machine the CPU time a one-thread benchmark used is a
// steadier measure of its work than the wall time, which also counts the
// time it waited for a core.

package cpu

import "syscall"

// cpuTimeNs is the user plus system CPU time of the process so far, in ns.
func cpuTimeNs() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
