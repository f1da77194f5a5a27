//go:build flavour_ampere

// This file makes the ampere flavour: it embeds the sm_80 PTX only (see
// flavours.go).
package kernels

import "embed"

const flavour = "ampere"

//go:embed ptx/sm_80.ptx
var ptxFS embed.FS

var archs = []int{80}
