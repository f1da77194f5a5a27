//go:build cuda

// Per-op parity of the CUDA backend: every op on fresh random inputs of
// several sizes, outputs poisoned with NaN first, compared with a float64
// reference (the bound below) and with the CPU backend (logged, and bounded
// more loosely since both sides round).
//
// Bounds, as normalized error ‖gpu − ref‖/‖ref‖:
//   - f32 arithmetic on exact inputs (matvec, norm, rope, attention on an f32
//     cache, swiglu): 1e-5 (float32 rounding over sums of a few thousand terms,
//     ex2/sin/cos.approx accurate to ~2^-21);
//   - tensor-core matmul: 3e-3 (activations and weights rounded to f16, 2^-11
//     relative each; accumulation in f32);
//   - attention on an f16 cache: 1e-5 against a reference on the same
//     f16-rounded keys and values;
//   - embedding, add, copy rows: 1e-6 (dequantization may fuse a
//     multiply-add, one rounding different from ggml).
package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// testWeight quantizes random values to typ and returns the bytes and their
// exact dequantization, row-major [ne1][ne0].
func testWeight(t testing.TB, r *rand.Rand, typ gguf.Type, ne0, ne1 int) ([]byte, []float32) {
	t.Helper()
	src := randn(r, ne0*ne1, 1/math.Sqrt(float64(ne0)))
	data, err := gguf.Quantize(typ, src)
	if err != nil {
		t.Fatal(err)
	}
	deq := make([]float32, ne0*ne1)
	if err := gguf.Dequantize(typ, data, deq); err != nil {
		t.Fatal(err)
	}
	return data, deq
}

func loadBoth(t testing.TB, g, c engine.Backend, typ gguf.Type, ne0, ne1 int, data []byte) (engine.Weight, engine.Weight) {
	t.Helper()
	gw, err := g.LoadWeight("w", typ, ne0, ne1, data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Free)
	cw, err := c.LoadWeight("w", typ, ne0, ne1, data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cw.Free)
	return gw, cw
}

// TestOpDevice reports the device and runs the smallest op end to end: the
// first thing to read when the device run fails.
func TestOpDevice(t *testing.T) {
	g := openGPU(t)
	defer g.Close()
	free, total, err := g.MemInfo()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("device %s: %s, compute capability %d.%d, %d SMs, driver CUDA %d.%d, PTX %s, %d of %d MiB free",
		g.Name(), g.DeviceName(), g.ComputeCapability()/10, g.ComputeCapability()%10, g.Multiprocessors(),
		g.DriverVersion()/1000, g.DriverVersion()%1000/10, g.Arch(), free>>20, total>>20)
	x := upload(t, g, []float32{1, 2, 3})
	y := upload(t, g, []float32{10, 20, 30})
	g.Add(y, x, 3)
	checkErr(t, "add vs float32", "3 elements", download(t, g, y, 3), []float64{11, 22, 33}, 0)
}

func TestOpMatMul(t *testing.T) {
	g, c := pair(t)
	r := newRand(t)
	shapes := []struct{ ne0, ne1 int }{{256, 96}, {512, 200}, {1024, 33}}
	for _, typ := range weightTypes {
		for _, sh := range shapes {
			data, deq := testWeight(t, r, typ, sh.ne0, sh.ne1)
			gw, cw := loadBoth(t, g, c, typ, sh.ne0, sh.ne1, data)
			for _, n := range []int{1, 3, 8, 9, 64, 130} {
				name := fmt.Sprintf("%s/%dx%d/n=%d", typ, sh.ne0, sh.ne1, n)
				t.Run(name, func(t *testing.T) {
					x := randn(r, n*sh.ne0, 1)
					ref := make([]float64, n*sh.ne1)
					for i := range n {
						for o := range sh.ne1 {
							var s float64
							for k := range sh.ne0 {
								s += float64(deq[o*sh.ne0+k]) * float64(x[i*sh.ne0+k])
							}
							ref[i*sh.ne1+o] = s
						}
					}
					gx, gd := upload(t, g, x), poisoned(t, g, n*sh.ne1)
					g.MatMul(gd, gw, gx, n)
					got := download(t, g, gd, n*sh.ne1)
					tol, kind := 1e-5, "matvec"
					if chooseMatMul(typ, g.ComputeCapability(), n).kind == kindMatMul {
						tol, kind = 3e-3, "mma"
					}
					key := "matmul/" + typ.String() + "/" + kind
					checkErr(t, key+" vs float64", name, got, ref, tol)
					cx, cd := upload(t, c, x), poisoned(t, c, n*sh.ne1)
					c.MatMul(cd, cw, cx, n)
					checkErr(t, key+" vs cpu", name, got, widen(download(t, c, cd, n*sh.ne1)), max(tol, 1e-2))
				})
			}
		}
	}
}

func TestOpEmbed(t *testing.T) {
	g, c := pair(t)
	r := newRand(t)
	const nEmbd, nVocab = 512, 300
	for _, typ := range weightTypes {
		t.Run(typ.String(), func(t *testing.T) {
			data, deq := testWeight(t, r, typ, nEmbd, nVocab)
			gw, cw := loadBoth(t, g, c, typ, nEmbd, nVocab, data)
			for _, n := range []int{1, 5, 70} {
				rows := make([]engine.Row, n)
				ref := make([]float64, 0, n*nEmbd)
				for i := range rows {
					rows[i] = engine.Row{Token: int32(r.IntN(nVocab)), Pos: int32(i)}
					ref = append(ref, widen(deq[int(rows[i].Token)*nEmbd:][:nEmbd])...)
				}
				gd := poisoned(t, g, n*nEmbd)
				g.Embed(gd, gw, setRows(t, g, rows), n)
				got := download(t, g, gd, n*nEmbd)
				checkErr(t, "embed/"+typ.String()+" vs float64", fmt.Sprintf("n=%d", n), got, ref, 1e-6)
				cd := poisoned(t, c, n*nEmbd)
				c.Embed(cd, cw, setRows(t, c, rows), n)
				checkErr(t, "embed/"+typ.String()+" vs cpu", fmt.Sprintf("n=%d", n), got, widen(download(t, c, cd, n*nEmbd)), 1e-6)
			}
		})
	}
}

func TestOpEmbedRejectsTokenOutsideVocabulary(t *testing.T) {
	g := openGPU(t)
	defer g.Close()
	data := make([]byte, 4*8*4)
	w, err := g.LoadWeight("w", gguf.TypeF32, 8, 4, data)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Free()
	rs, _ := g.NewRows(1, 0)
	defer rs.Free()
	if err := rs.Set([]engine.Row{{Token: 4}}, engine.BlockTables{}); err != nil {
		t.Fatal(err)
	}
	d, _ := g.NewBuffer(8)
	defer d.Free()
	g.Embed(d, w, rs, 1)
	if err := g.Sync(); err == nil {
		t.Fatal("embedding token 4 of a 4-row table gave no error")
	}
	if err := g.Sync(); err != nil {
		t.Fatalf("error not cleared by Sync: %v", err)
	}
}

func TestOpRMSNorm(t *testing.T) {
	g, c := pair(t)
	r := newRand(t)
	cases := []struct{ n, dim int }{{1, 256}, {7, 1024}, {33, 64}, {128, 128}, {3, 4096}}
	for _, cs := range cases {
		for _, alias := range []bool{false, true} {
			name := fmt.Sprintf("n=%d/dim=%d/alias=%v", cs.n, cs.dim, alias)
			t.Run(name, func(t *testing.T) {
				x := randn(r, cs.n*cs.dim, 3)
				w := randn(r, cs.dim, 1)
				const eps = 1e-6
				ref := make([]float64, len(x))
				for i := range cs.n {
					var ss float64
					for _, v := range x[i*cs.dim : (i+1)*cs.dim] {
						ss += float64(v) * float64(v)
					}
					s := 1 / math.Sqrt(ss/float64(cs.dim)+eps)
					for j := range cs.dim {
						ref[i*cs.dim+j] = float64(x[i*cs.dim+j]) * s * float64(w[j])
					}
				}
				wb := f32Bytes(w)
				gw, cw := loadBoth(t, g, c, gguf.TypeF32, cs.dim, 1, wb)
				gx := upload(t, g, x)
				gd := gx
				if !alias {
					gd = poisoned(t, g, len(x))
				}
				g.RMSNorm(gd, gx, gw, cs.n, cs.dim, eps)
				got := download(t, g, gd, len(x))
				checkErr(t, "rmsnorm vs float64", name, got, ref, 1e-5)
				cx, cd := upload(t, c, x), poisoned(t, c, len(x))
				c.RMSNorm(cd, cx, cw, cs.n, cs.dim, eps)
				checkErr(t, "rmsnorm vs cpu", name, got, widen(download(t, c, cd, len(x))), 1e-5)
			})
		}
	}
}

func f32Bytes(x []float32) []byte {
	b, err := gguf.Quantize(gguf.TypeF32, x)
	if err != nil {
		panic(err)
	}
	return b
}

func TestOpRoPE(t *testing.T) {
	g, c := pair(t)
	r := newRand(t)
	cases := []struct {
		n, nHead, headDim, maxPos int
		base                      float32
	}{{1, 16, 128, 40000, 1e6}, {9, 8, 128, 512, 1e6}, {64, 4, 64, 4096, 1e4}}
	for _, cs := range cases {
		name := fmt.Sprintf("n=%d/heads=%d/dim=%d/pos<%d", cs.n, cs.nHead, cs.headDim, cs.maxPos)
		t.Run(name, func(t *testing.T) {
			rows := make([]engine.Row, cs.n)
			for i := range rows {
				rows[i] = engine.Row{Pos: int32(r.IntN(cs.maxPos))}
			}
			x := randn(r, cs.n*cs.nHead*cs.headDim, 1)
			ref := widen(x)
			half := cs.headDim / 2
			for i, row := range rows {
				for h := range cs.nHead {
					p := ref[(i*cs.nHead+h)*cs.headDim:]
					for j := range half {
						th := float64(row.Pos) * math.Pow(float64(cs.base), -2*float64(j)/float64(cs.headDim))
						s, co := math.Sincos(th)
						x0, x1 := p[j], p[j+half]
						p[j], p[j+half] = x0*co-x1*s, x0*s+x1*co
					}
				}
			}
			gx := upload(t, g, x)
			g.RoPE(gx, setRows(t, g, rows), cs.n, cs.nHead, cs.headDim, cs.base)
			got := download(t, g, gx, len(x))
			checkErr(t, "rope vs float64", name, got, ref, 1e-5)
			cx := upload(t, c, x)
			c.RoPE(cx, setRows(t, c, rows), cs.n, cs.nHead, cs.headDim, cs.base)
			checkErr(t, "rope vs cpu", name, got, widen(download(t, c, cx, len(x))), 1e-5)
		})
	}
}

func TestOpAttention(t *testing.T) {
	g, c := pair(t)
	r := newRand(t)
	const layers, seqs, ctx = 2, 2, 700
	cases := []struct {
		name                    string
		nHead, nHeadKV, headDim int
		kv                      engine.KVType
	}{
		{"gqa2-f32", 4, 2, 64, engine.KVF32},
		{"gqa2-f16", 4, 2, 64, engine.KVF16},
		{"qwen3-0.6b-heads-f16", 16, 8, 128, engine.KVF16},
		{"mha-f32", 8, 8, 128, engine.KVF32},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			kvDim := cs.nHeadKV * cs.headDim
			shape := engine.KVShape{Layers: layers, Blocks: testBlocks(seqs, ctx), BlockSize: testBlockSize, KVDim: kvDim, Type: cs.kv}
			gc, err := g.NewKVCache(shape)
			if err != nil {
				t.Fatal(err)
			}
			defer gc.Free()
			cc, err := c.NewKVCache(shape)
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Free()
			// Fill positions 0..filled-1 of both sequences of layer 1 in
			// chunks, as prefill does; keep the values the cache holds.
			const layer, filled = 1, 600
			keys := make([][]float64, seqs) // [seq][pos*kvDim + i]
			vals := make([][]float64, seqs)
			round := func(v float32) float64 {
				if cs.kv == engine.KVF16 {
					return float64(gguf.F16ToF32(gguf.F32ToF16(v)))
				}
				return float64(v)
			}
			for s := range seqs {
				for p0 := 0; p0 < filled; p0 += 200 {
					rows := make([]engine.Row, 200)
					for i := range rows {
						rows[i] = engine.Row{Pos: int32(p0 + i), Seq: int32(s)}
					}
					k, v := randn(r, 200*kvDim, 1), randn(r, 200*kvDim, 1)
					for i := range k {
						keys[s] = append(keys[s], round(k[i]))
						vals[s] = append(vals[s], round(v[i]))
					}
					g.StoreKV(gc, layer, upload(t, g, k), upload(t, g, v), setRows(t, g, rows), 200)
					c.StoreKV(cc, layer, upload(t, c, k), upload(t, c, v), setRows(t, c, rows), 200)
				}
			}
			if err := g.Sync(); err != nil {
				t.Fatal(err)
			}
			// Query rows: decode-like single rows at chunk edges and a batch.
			for _, pos := range [][]int{{0}, {255}, {256}, {599}, {3, 100, 257, 511, 512, 599}} {
				n := len(pos)
				rows := make([]engine.Row, n)
				for i, p := range pos {
					rows[i] = engine.Row{Pos: int32(p), Seq: int32(i % seqs)}
				}
				qDim := cs.nHead * cs.headDim
				q := randn(r, n*qDim, 1)
				scale := float32(1 / math.Sqrt(float64(cs.headDim)))
				ref := make([]float64, n*qDim)
				group := cs.nHead / cs.nHeadKV
				for i, row := range rows {
					K, V := keys[row.Seq], vals[row.Seq]
					for h := range cs.nHead {
						kvh := h / group
						qh := q[(i*cs.nHead+h)*cs.headDim:][:cs.headDim]
						sc := make([]float64, row.Pos+1)
						m := math.Inf(-1)
						for tp := range sc {
							var d float64
							for j := range cs.headDim {
								d += float64(qh[j]) * K[tp*kvDim+kvh*cs.headDim+j]
							}
							sc[tp] = d * float64(scale)
							m = max(m, sc[tp])
						}
						var l float64
						for tp := range sc {
							sc[tp] = math.Exp(sc[tp] - m)
							l += sc[tp]
						}
						for j := range cs.headDim {
							var o float64
							for tp := range sc {
								o += sc[tp] * V[tp*kvDim+kvh*cs.headDim+j]
							}
							ref[(i*cs.nHead+h)*cs.headDim+j] = o / l
						}
					}
				}
				name := fmt.Sprintf("%s pos=%v", cs.name, pos)
				gd := poisoned(t, g, n*qDim)
				g.Attention(gd, upload(t, g, q), gc, layer, setRows(t, g, rows), n, cs.nHead, cs.nHeadKV, cs.headDim, scale)
				got := download(t, g, gd, n*qDim)
				checkErr(t, "attention/kv-"+kvName(cs.kv)+" vs float64", name, got, ref, 1e-5)
				cd := poisoned(t, c, n*qDim)
				c.Attention(cd, upload(t, c, q), cc, layer, setRows(t, c, rows), n, cs.nHead, cs.nHeadKV, cs.headDim, scale)
				checkErr(t, "attention/kv-"+kvName(cs.kv)+" vs cpu", name, got, widen(download(t, c, cd, n*qDim)), 1e-4)
			}
		})
	}
}

func TestOpStoreKVRejectsSlotOutsideCache(t *testing.T) {
	g := openGPU(t)
	defer g.Close()
	kv, err := g.NewKVCache(engine.KVShape{Layers: 1, Blocks: 1, BlockSize: 4, KVDim: 8, Type: engine.KVF16})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Free()
	k, _ := g.NewBuffer(8)
	defer k.Free()
	rs, _ := g.NewRows(1, 1)
	defer rs.Free()
	for _, row := range []engine.Row{{Pos: 4}, {Seq: 1}} {
		if err := rs.Set([]engine.Row{row}, engine.ContiguousTables(1, 1)); err != nil {
			t.Fatal(err)
		}
		g.StoreKV(kv, 0, k, k, rs, 1)
		if err := g.Sync(); err == nil {
			t.Fatalf("StoreKV of %+v into a 1x4 cache gave no error", row)
		}
	}
}

func TestOpElementwise(t *testing.T) {
	g, c := pair(t)
	r := newRand(t)
	for _, n := range []int{1, 255, 256, 257, 100000} {
		gate, up, x := randn(r, n, 4), randn(r, n, 1), randn(r, n, 1)
		t.Run(fmt.Sprintf("swiglu/n=%d", n), func(t *testing.T) {
			ref := make([]float64, n)
			for i := range ref {
				gv := float64(gate[i])
				ref[i] = gv / (1 + math.Exp(-gv)) * float64(up[i])
			}
			gg := upload(t, g, gate)
			g.SwiGLU(gg, gg, upload(t, g, up), n) // dst aliases gate, as the forward pass does
			got := download(t, g, gg, n)
			checkErr(t, "swiglu vs float64", fmt.Sprintf("n=%d", n), got, ref, 1e-5)
			cg := upload(t, c, gate)
			c.SwiGLU(cg, cg, upload(t, c, up), n)
			checkErr(t, "swiglu vs cpu", fmt.Sprintf("n=%d", n), got, widen(download(t, c, cg, n)), 1e-5)
		})
		t.Run(fmt.Sprintf("add/n=%d", n), func(t *testing.T) {
			ref := make([]float64, n)
			for i := range ref {
				ref[i] = float64(gate[i] + x[i]) // float32 addition, as both backends do it
			}
			gd := upload(t, g, gate)
			g.Add(gd, upload(t, g, x), n)
			checkErr(t, "add vs float32", fmt.Sprintf("n=%d", n), download(t, g, gd, n), ref, 0)
		})
	}
}

func TestOpCopyRows(t *testing.T) {
	g, c := pair(t)
	r := newRand(t)
	const dim, nSrc = 300, 50
	src := randn(r, nSrc*dim, 1)
	for _, idx := range [][]int{{0}, {49}, {3, 3, 0, 17, 49}, {}} {
		t.Run(fmt.Sprintf("idx=%v", idx), func(t *testing.T) {
			ref := make([]float64, 0, len(idx)*dim)
			for _, i := range idx {
				ref = append(ref, widen(src[i*dim:(i+1)*dim])...)
			}
			gd := poisoned(t, g, max(len(idx), 1)*dim)
			g.CopyRows(gd, upload(t, g, src), idx, dim)
			got := download(t, g, gd, len(idx)*dim)
			checkErr(t, "copy_rows vs exact", fmt.Sprint(idx), got, ref, 0)
			cd := poisoned(t, c, max(len(idx), 1)*dim)
			c.CopyRows(cd, upload(t, c, src), idx, dim)
			checkErr(t, "copy_rows vs cpu", fmt.Sprint(idx), got, widen(download(t, c, cd, len(idx)*dim)), 0)
		})
	}
}

func TestOpArgmax(t *testing.T) {
	g := openGPU(t)
	defer g.Close()
	r := newRand(t)
	for _, dim := range []int{1, 31, 2112, 151936} {
		const n = 5
		x := randn(r, n*dim, 1)
		// Row 1 gets a tie at two places; the lower index must win.
		if dim > 10 {
			x[dim+7], x[dim+dim-1] = 100, 100
		}
		gx := upload(t, g, x)
		got := make([]int32, n)
		if err := g.Argmax(got, gx, dim); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			row := x[i*dim : (i+1)*dim]
			want := 0
			for j, v := range row {
				if v > row[want] {
					want = j
				}
			}
			if int(got[i]) != want {
				t.Errorf("dim %d row %d: argmax %d, want %d", dim, i, got[i], want)
			}
		}
		viaFallback := make([]int32, n)
		if err := ArgmaxRows(cpuOnly{g}, viaFallback, gx, dim); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if viaFallback[i] != got[i] {
				t.Errorf("dim %d row %d: fallback argmax %d, device %d", dim, i, viaFallback[i], got[i])
			}
		}
	}
}

// cpuOnly hides the Argmaxer method so ArgmaxRows takes its fallback.
type cpuOnly struct{ engine.Backend }
