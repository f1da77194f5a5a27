//go:build kernels_fatbin

// This file embeds the fatbin (cubin for the flavour's capabilities plus
// PTX) that scripts/build-kernels.sh --fatbin builds with nvcc. The Makefile
// sets the kernels_fatbin tag when it built one; see module.go.
package kernels

import (
	_ "embed"
	"strings"
)

//go:embed fatbin/kernels.fatbin
var fatbin []byte

//go:embed fatbin/archs.txt
var fatbinArchsFile string

var fatbinArchs = strings.TrimSpace(fatbinArchsFile)
