//go:build flavour_hopper

// This file makes the hopper flavour: it embeds the sm_90 PTX only (see
// flavours.go).
package kernels

import "embed"

const flavour = "hopper"

//go:embed ptx/sm_90.ptx
var ptxFS embed.FS

var archs = []int{90}
