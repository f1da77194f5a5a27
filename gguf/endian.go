// This file tells whether the host is little-endian, so GGUF's
// little-endian float32 data can be copied without byte swapping.

package gguf

import "unsafe"

// littleEndian is true on little-endian hosts (every platform Go supports
// except s390x, ppc64, mips and mips64).
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
