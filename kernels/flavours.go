// This file holds the GPU flavours: which compute capabilities a neuron
// build is made for and which PTX it embeds. The flavour is chosen at build
// time with a build tag (flavour_ampere, flavour_ada, flavour_hopper,
// flavour_blackwell; none: generic), which `make neuron GPU_FLAVOUR=ada`
// sets; the files flavour_*.go hold the one go:embed line per flavour. The
// source is the same for every flavour.
package kernels

import "fmt"

// Flavour describes one GPU generation a neuron build can be made for.
type Flavour struct {
	// Name is the flavour's name: the package suffix and GPU_FLAVOUR value.
	Name string
	// Targets lists the compute capabilities (major*10 + minor) the flavour
	// is made for.
	Targets []int
	// PTX lists the capabilities whose PTX the flavour embeds. It can
	// differ from Targets: clang-16 emits PTX for sm_90 at most, so
	// Blackwell (sm_120) embeds sm_90 PTX that the driver JIT-compiles.
	PTX []int
}

// Flavours lists every flavour, generic first. The generic flavour embeds
// the PTX of every capability scripts/build-kernels.sh compiles.
var Flavours = []Flavour{
	{Name: "generic", Targets: []int{80, 86, 89, 90, 100, 120}, PTX: []int{80, 89, 90}},
	{Name: "ampere", Targets: []int{80, 86}, PTX: []int{80}},
	{Name: "ada", Targets: []int{89}, PTX: []int{89}},
	{Name: "hopper", Targets: []int{90}, PTX: []int{90}},
	{Name: "blackwell", Targets: []int{120}, PTX: []int{90}},
}

// Current returns the flavour this binary was built as.
func Current() Flavour {
	for _, f := range Flavours {
		if f.Name == flavour {
			return f
		}
	}
	// flavour is a constant set by a build-tagged file naming a row above.
	panic(fmt.Sprintf("kernels: flavour %q is not in Flavours", flavour))
}

// Describe returns one line naming the flavour, its target capabilities and
// the kernels embedded, for `neuron --version`, e.g. "flavour ada (sm_89);
// kernels: PTX sm_89".
func Describe() string {
	f := Current()
	s := "flavour " + f.Name + " (" + smList(f.Targets) + "); kernels: "
	if len(fatbin) > 0 {
		s += "fatbin (" + fatbinArchs + "), "
	}
	s += "PTX " + smList(archs)
	for _, t := range f.Targets {
		if t > archs[len(archs)-1] {
			s += " (the driver JIT-compiles it for newer GPUs)"
			break
		}
	}
	return s
}

func smList(ccs []int) string {
	s := ""
	for i, cc := range ccs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("sm_%d", cc)
	}
	return s
}
