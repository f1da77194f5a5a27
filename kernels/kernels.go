// Package kernels holds helexa's CUDA kernels: the CUDA C sources (*.cu) and
// the PTX that scripts/build-kernels.sh compiles from them, one file per
// compute capability. A binary embeds the PTX its GPU flavour lists
// (flavours.go), and a fatbin when built with the CUDA toolkit. The CUDA
// backend loads the module that suits the device (module.go); the driver
// compiles PTX to machine code.
package kernels

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ptxFS and archs (the compute capabilities with a PTX file, major*10 +
// minor, ascending) come from the flavour's file, flavour_*.go.

// Archs returns the compute capabilities (major*10 + minor) that have PTX,
// ascending.
func Archs() []int { return append([]int(nil), archs...) }

// PTX returns the PTX for the highest compute capability <= cc (major*10 +
// minor) and its architecture name ("sm_89"). src is nil when the device is
// older than every PTX file. The returned slice is shared: do not modify it.
func PTX(cc int) (arch string, src []byte) {
	for i := len(archs) - 1; i >= 0; i-- {
		if archs[i] <= cc {
			arch = "sm_" + strconv.Itoa(archs[i])
			b, err := ptxFS.ReadFile("ptx/" + arch + ".ptx")
			if err != nil {
				// The files are embedded at build time; a missing one is a build error.
				panic(fmt.Sprintf("kernels: embedded %s.ptx missing: %v", arch, err))
			}
			return arch, b
		}
	}
	return "", nil
}

// Entries returns the names of the kernel entry points (.entry) in a PTX
// module, sorted.
func Entries(src []byte) []string {
	var names []string
	for _, line := range strings.Split(string(src), "\n") {
		rest, ok := strings.CutPrefix(line, ".visible .entry ")
		if !ok {
			continue
		}
		if i := strings.IndexAny(rest, "( "); i >= 0 {
			rest = rest[:i]
		}
		names = append(names, rest)
	}
	sort.Strings(names)
	return names
}
