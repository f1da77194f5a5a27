//go:build flavour_blackwell

// This file makes the blackwell flavour (sm_120). clang-16 emits PTX for
// sm_90 at most, so it embeds the sm_90 PTX, the nearest capability below
// sm_120, and the driver JIT-compiles it on first load (see flavours.go).
package kernels

import "embed"

const flavour = "blackwell"

//go:embed ptx/sm_90.ptx
var ptxFS embed.FS

var archs = []int{90}
