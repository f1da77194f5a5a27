// Tests of PTX selection and of the embedded modules' shape. The check that
// every kernel the backend launches exists lives in engine/cuda, which owns
// the list of names.
package kernels

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestPTXPicksHighestArchAtOrBelow(t *testing.T) {
	if Current().Name != "generic" {
		t.Skipf("the cases are the generic flavour's; this build is %s (flavour_test.go covers it)", Current().Name)
	}
	cases := []struct {
		name string
		cc   int
		want string
	}{
		{"volta too old", 70, ""},
		{"turing too old", 75, ""},
		{"ampere a100", 80, "sm_80"},
		{"ampere consumer", 86, "sm_80"},
		{"ada", 89, "sm_89"},
		{"hopper", 90, "sm_90"},
		{"blackwell uses hopper ptx", 100, "sm_90"},
		{"blackwell consumer", 120, "sm_90"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arch, src := PTX(c.cc)
			if arch != c.want {
				t.Fatalf("PTX(%d) arch = %q, want %q", c.cc, arch, c.want)
			}
			if c.want == "" {
				if src != nil {
					t.Fatalf("PTX(%d) returned %d bytes for an unsupported device", c.cc, len(src))
				}
				return
			}
			if !bytes.Contains(src, []byte(".target "+c.want)) {
				t.Fatalf("PTX(%d) source does not declare .target %s", c.cc, c.want)
			}
		})
	}
}

func TestEveryArchHasTheSameEntries(t *testing.T) {
	var first []string
	for _, cc := range Archs() {
		_, src := PTX(cc)
		e := Entries(src)
		if len(e) == 0 {
			t.Fatalf("sm_%d: no .entry in the PTX", cc)
		}
		if first == nil {
			first = e
			continue
		}
		if !slices.Equal(first, e) {
			t.Fatalf("sm_%d entries differ from sm_%d:\n%v\n%v", cc, Archs()[0], e, first)
		}
	}
}

func TestEntriesParsesDeclarations(t *testing.T) {
	src := []byte("//\n.visible .entry b_f32(\n\t.param .u64 x\n)\n.visible .entry a_q4_k(\n.func helper(\n")
	got := Entries(src)
	want := []string{"a_q4_k", "b_f32"}
	if !slices.Equal(got, want) {
		t.Fatalf("Entries = %v, want %v", got, want)
	}
}

// TestMatMulLoadsFragmentsAsWords checks that the tensor-core kernels read
// their shared-memory mma fragments as 32-bit words: declared as 16-bit
// arrays, clang splits every fragment load into two 16-bit loads and a
// shift-and-or (640 of them in sm_80.ptx before the fix).
func TestMatMulLoadsFragmentsAsWords(t *testing.T) {
	for _, cc := range Archs() {
		arch, src := PTX(cc)
		entry, n := "", 0
		for _, line := range strings.Split(string(src), "\n") {
			if rest, ok := strings.CutPrefix(line, ".visible .entry "); ok {
				entry = rest
			}
			if strings.HasPrefix(entry, "matmul_") && strings.Contains(line, "ld.shared.u16") {
				n++
			}
		}
		if n != 0 {
			t.Errorf("%s: the matmul kernels make %d 16-bit shared-memory loads, want none", arch, n)
		}
	}
}
