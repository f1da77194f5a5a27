// This file checks every fused dot product against the reference path,
// gguf's dequantization followed by a float64 dot product.

package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFusedKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const ne0, rows = 1024, 16
	for _, typ := range allTypes {
		kern := fusedKernels[typ]
		if kern == nil {
			continue
		}
		t.Run(typ.String(), func(t *testing.T) {
			data := randomWeight(rng, typ, ne0, rows)
			w := dequantAll(t, typ, data, ne0*rows)
			x := randomVec(rng, ne0)
			rowSize := len(data) / rows
			for r := range rows {
				got := kern(data[r*rowSize:(r+1)*rowSize], x)
				var want, mag float64
				for i := range ne0 {
					p := float64(w[r*ne0+i]) * float64(x[i])
					want += p
					mag += math.Abs(p)
				}
				// Error relative to Σ|w·x|, the scale float32 rounding acts on.
				if e := math.Abs(float64(got)-want) / mag; e > 1e-6 {
					t.Errorf("row %d: %g, reference %g (relative error %.3g)", r, got, want, e)
				}
			}
		})
	}
}
