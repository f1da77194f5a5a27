// This file maps GGUF files into memory read-only on Unix systems, so tensor
// data is shared with the page cache instead of copied into the Go heap, and
// holds the Unix parts of opening a file safely (non-blocking open).

//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package gguf

import (
	"errors"
	"math"
	"os"
	"syscall"
)

// openNonblock keeps an open of a FIFO without a writer from blocking.
const openNonblock = syscall.O_NONBLOCK

// mmapFile maps size bytes of fh read-only. The returned function unmaps.
func mmapFile(fh *os.File, size int64) ([]byte, func() error, error) {
	if size <= 0 || uint64(size) > math.MaxInt {
		return nil, nil, errors.New("gguf: cannot map a file of this size")
	}
	data, err := syscall.Mmap(int(fh.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return syscall.Munmap(data) }, nil
}
