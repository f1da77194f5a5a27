//go:build !flavour_ampere && !flavour_ada && !flavour_hopper && !flavour_blackwell

// This file makes the generic flavour, the default build: it embeds the PTX
// of every compute capability (see flavours.go).
package kernels

import "embed"

const flavour = "generic"

//go:embed ptx/*.ptx
var ptxFS embed.FS

// archs must match ARCHS in scripts/build-kernels.sh.
var archs = []int{80, 89, 90}
