//go:build flavour_ada

// This file makes the ada flavour: it embeds the sm_89 PTX only (see
// flavours.go).
package kernels

import "embed"

const flavour = "ada"

//go:embed ptx/sm_89.ptx
var ptxFS embed.FS

var archs = []int{89}
