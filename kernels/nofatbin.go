//go:build !kernels_fatbin

// This file is the build without a fatbin (no nvcc on the build host): the
// binary embeds PTX only; see module.go.
package kernels

var fatbin []byte

var fatbinArchs = ""
