//go:build !amd64

// This file stands in for the amd64 GEMM kernels on other architectures:
// there are none, so MatMul calls the one-row kernels per activation row.

package cpu

import "github.com/helexa/helexa/gguf"

var hasGemmVNNI = false

func asmGemmKernel(typ gguf.Type) gemmSpec { return gemmSpec{} }
