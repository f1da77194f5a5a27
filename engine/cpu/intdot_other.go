//go:build !amd64

// This file stands in for the amd64 integer kernels on other
// architectures: there are none, so the Go references in intdot.go run.

package cpu

import "github.com/helexa/helexa/gguf"

var hasVNNI = false

var hasK23Wide = false

func asmRowsKernel(typ gguf.Type) rowsKernel { return nil }
