//go:build !linux

// This file is the load watch where no source for the other load is
// implemented: the pool keeps all its threads.

package cpu

func newLoadSource() loadSource { return nil }
