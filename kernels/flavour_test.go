// Tests of the flavour table and of the flavour this test binary was built
// as. scripts/test-packaging.sh runs them once per flavour tag, so every
// flavour's embed line is checked against its row.
package kernels

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestFlavourTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for i, f := range Flavours {
		if seen[f.Name] {
			t.Fatalf("flavour %q listed twice", f.Name)
		}
		seen[f.Name] = true
		if i == 0 && f.Name != "generic" {
			t.Fatalf("Flavours[0] = %q, want generic", f.Name)
		}
		if len(f.Targets) == 0 || len(f.PTX) == 0 {
			t.Fatalf("flavour %q: no targets or no PTX", f.Name)
		}
		if !slices.IsSorted(f.PTX) {
			t.Fatalf("flavour %q: PTX %v not ascending", f.Name, f.PTX)
		}
		// Every target must be able to run the flavour's PTX: some embedded
		// capability at or below it.
		for _, cc := range f.Targets {
			if f.PTX[0] > cc {
				t.Errorf("flavour %q: target sm_%d is older than every embedded PTX %v", f.Name, cc, f.PTX)
			}
		}
	}
	// The generic flavour embeds every capability any flavour embeds.
	for _, f := range Flavours[1:] {
		for _, cc := range f.PTX {
			if !slices.Contains(Flavours[0].PTX, cc) {
				t.Errorf("flavour %q embeds sm_%d, which the generic flavour lacks", f.Name, cc)
			}
		}
	}
}

func TestCurrentFlavourEmbedsItsPTX(t *testing.T) {
	f := Current()
	if !slices.Equal(Archs(), f.PTX) {
		t.Fatalf("flavour %s embeds %v, its row says %v", f.Name, Archs(), f.PTX)
	}
	for _, cc := range f.Targets {
		arch, src := PTX(cc)
		if src == nil {
			t.Fatalf("flavour %s: no PTX for its target sm_%d", f.Name, cc)
		}
		if !bytes.Contains(src, []byte(".target "+arch)) {
			t.Fatalf("flavour %s: PTX for sm_%d does not declare .target %s", f.Name, cc, arch)
		}
		name, img := Module(cc)
		if len(fatbin) == 0 && (name != arch || !bytes.Equal(img, src)) {
			t.Fatalf("Module(%d) = %s, want the PTX %s without a fatbin", cc, name, arch)
		}
	}
	// A device older than the flavour's PTX gets nothing to load.
	if _, src := PTX(f.PTX[0] - 1); src != nil {
		t.Fatalf("flavour %s: PTX(%d) returned a module below sm_%d", f.Name, f.PTX[0]-1, f.PTX[0])
	}
	if name, img := Module(f.PTX[0] - 1); img != nil {
		t.Fatalf("Module(%d) = %s, want nothing below sm_%d", f.PTX[0]-1, name, f.PTX[0])
	}
}

func TestDescribeNamesFlavourAndKernels(t *testing.T) {
	f := Current()
	d := Describe()
	if !strings.HasPrefix(d, "flavour "+f.Name+" (") {
		t.Fatalf("Describe() = %q, want it to start with the flavour %s", d, f.Name)
	}
	for _, cc := range f.PTX {
		if !strings.Contains(d, "sm_"+itoa(cc)) {
			t.Fatalf("Describe() = %q does not name the embedded sm_%d", d, cc)
		}
	}
	jit := strings.Contains(d, "JIT-compiles")
	wantJIT := slices.Max(f.Targets) > slices.Max(f.PTX)
	if jit != wantJIT {
		t.Fatalf("Describe() = %q: JIT note %v, want %v", d, jit, wantJIT)
	}
}

func itoa(n int) string { return strings.TrimPrefix(smList([]int{n}), "sm_") }

func TestModulePrefersTheFatbin(t *testing.T) {
	if len(fatbin) == 0 {
		t.Skip("no fatbin embedded (build tag kernels_fatbin; scripts/test-packaging.sh runs this with one)")
	}
	f := Current()
	for _, cc := range f.Targets {
		name, img := Module(cc)
		if !bytes.Equal(img, fatbin) || !strings.HasPrefix(name, "fatbin(") {
			t.Fatalf("Module(%d) = %s (%d bytes), want the embedded fatbin", cc, name, len(img))
		}
	}
	if !strings.Contains(Describe(), "fatbin ("+fatbinArchs+")") {
		t.Fatalf("Describe() = %q does not name the fatbin %q", Describe(), fatbinArchs)
	}
}
