// This file is the fallback for platforms without syscall.Mmap: Open reads
// tensor data with ReadAt instead.

//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package gguf

import (
	"errors"
	"os"
)

// openNonblock is not needed where there are no FIFOs to block on.
const openNonblock = 0

func mmapFile(*os.File, int64) ([]byte, func() error, error) {
	return nil, nil, errors.New("gguf: memory mapping not available")
}
