// Tests of the backend's host side on the fake driver: the whole forward
// pass of a reference model launches only kernels whose parameters match
// the PTX, memory is accounted and returned, and driver failures become
// sticky errors with the driver's names.
package cuda

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
)

func TestFakeDeviceForwardPass(t *testing.T) {
	for _, tc := range []struct {
		model string
		kv    engine.KVType
		want  []string // kernels the pass must use
	}{
		{"mini-q4_k_m", engine.KVF16, []string{"embed_q4_k", "matmul_q4_k_f32", "matvec_q4_k_f32", "matmul_q6_k_f32", "matvec_q6_k_f32", kAttnF16, kKVStoreF16}},
		{"mini-f32", engine.KVF32, []string{"embed_f32", "matvec_f32_f32", kAttnF32, kKVStoreF32}},
		{"mini-bf16", engine.KVF16, []string{"embed_bf16", "matmul_bf16_f32", "matvec_bf16_f32"}},
	} {
		t.Run(tc.model, func(t *testing.T) {
			b, fake := newFakeBackend(t)
			f, err := gguf.Open(reftest.Model(t, tc.model))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := engine.LoadModel(f, b)
			if err != nil {
				t.Fatal(err)
			}
			if b.Allocated() < m.Bytes() {
				t.Fatalf("backend accounts %d bytes for a %d-byte model", b.Allocated(), m.Bytes())
			}
			ctx, err := m.NewContext(engine.ContextOptions{Ctx: 600, Batch: 300, KV: tc.kv})
			if err != nil {
				t.Fatal(err)
			}
			logits := make([]float32, 2*m.Config().NVocab)
			// Prefill of 280 rows (tensor-core path, two attention chunks),
			// then a decode step.
			rows := make([]engine.Row, 280)
			for i := range rows {
				rows[i] = engine.Row{Token: int32(i), Pos: int32(i)}
			}
			if err := ctx.Forward(rows, []int{0, 279}, logits); err != nil {
				t.Fatal(err)
			}
			if err := ctx.Forward([]engine.Row{{Token: 5, Pos: 280}}, []int{0}, logits[:m.Config().NVocab]); err != nil {
				t.Fatal(err)
			}
			used := fake.kernelsLaunched()
			for _, k := range append(tc.want, kRMSNorm, kRoPE, kSwiGLU, kAdd, kCopyRows, kAttnReduce) {
				if !slices.Contains(used, k) {
					t.Errorf("forward pass did not launch %s (launched %v)", k, used)
				}
			}
			ctx.Free()
			m.Free()
			if err := b.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			if b.Allocated() != 0 || len(fake.mem) != 0 {
				t.Fatalf("after close: %d bytes accounted, %d allocations live", b.Allocated(), len(fake.mem))
			}
		})
	}
}

func TestFakeDeviceWriteRead(t *testing.T) {
	b, _ := newFakeBackend(t)
	defer b.Close()
	x, err := b.NewBuffer(5)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Free()
	src := []float32{1, -2, 3.5, 4, 5}
	if err := b.Write(x, src); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 5)
	if err := b.Read(got, x); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, src) {
		t.Fatalf("read back %v, wrote %v", got, src)
	}
}

func TestFakeDeviceOutOfMemory(t *testing.T) {
	b, fake := newFakeBackend(t)
	defer b.Close()
	fake.total = 1 << 20
	_, err := b.LoadWeight("blk.0.ffn_up.weight", gguf.TypeF32, 1024, 1024, make([]byte, 4<<20))
	if !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("LoadWeight beyond device memory: %v, want ErrOutOfMemory", err)
	}
	for _, want := range []string{"blk.0.ffn_up.weight", "CUDA_ERROR_OUT_OF_MEMORY", "4 MiB requested"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := b.CanFit(2 << 20); !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("CanFit(2 MiB) on a 1 MiB device: %v", err)
	}
	fake.total = 4 << 30
	if err := b.CanFit(1 << 30); err != nil {
		t.Fatalf("CanFit(1 GiB) on a 4 GiB device: %v", err)
	}
}

func TestFakeDeviceStickyError(t *testing.T) {
	b, fake := newFakeBackend(t)
	defer b.Close()
	x, _ := b.NewBuffer(100)
	defer x.Free()
	// A launch error that leaves the context usable (a fault does not:
	// TestStrictKernelFaultFailsTheBackend).
	fake.failNext["launch:"+kAdd] = cudaErrLaunchOutOfResources
	b.Add(x, x, 100)
	b.SwiGLU(x, x, x, 100) // skipped: an error is pending
	err := b.Sync()
	var cerr *Error
	if !errors.As(err, &cerr) || cerr.Name != "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES" || !strings.Contains(cerr.Call, kAdd) || errors.Is(err, ErrDeviceFailed) {
		t.Fatalf("Sync after a failed launch: %v", err)
	}
	if n := len(fake.launches); n != 0 {
		t.Fatalf("%d kernels ran after the failure", n)
	}
	if err := b.Sync(); err != nil {
		t.Fatalf("error not cleared: %v", err)
	}
	b.Add(x, x, 100)
	if err := b.Sync(); err != nil || len(fake.launches) != 1 {
		t.Fatalf("after recovery: %v, %d launches", err, len(fake.launches))
	}
}

func TestFakeDeviceBatchChecks(t *testing.T) {
	b, _ := newFakeBackend(t)
	defer b.Close()
	w, err := b.LoadWeight("token_embd.weight", gguf.TypeF32, 8, 4, make([]byte, 4*8*4))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Free()
	rs, _ := b.NewRows(2, 1)
	tab := engine.ContiguousTables(1, 1)
	defer rs.Free()
	d, _ := b.NewBuffer(16)
	defer d.Free()
	if err := rs.Set(make([]engine.Row, 3), tab); err == nil {
		t.Fatal("Set of 3 rows into a capacity of 2 accepted")
	}
	if err := rs.Set([]engine.Row{{Token: -1}}, tab); err == nil {
		t.Fatal("negative token accepted")
	}
	if err := rs.Set([]engine.Row{{Token: 4}}, tab); err != nil {
		t.Fatal(err)
	}
	b.Embed(d, w, rs, 1)
	if err := b.Sync(); err == nil || !strings.Contains(err.Error(), "token 4") {
		t.Fatalf("embedding token 4 of a 4-row table: %v", err)
	}
	kv, err := b.NewKVCache(engine.KVShape{Layers: 1, Blocks: 1, BlockSize: 4, KVDim: 8, Type: engine.KVF16})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Free()
	if err := rs.Set([]engine.Row{{Pos: 4}}, tab); err != nil {
		t.Fatal(err)
	}
	b.StoreKV(kv, 0, d, d, rs, 1)
	if err := b.Sync(); err == nil || !strings.Contains(err.Error(), "pos 4") {
		t.Fatalf("storing position 4 of a 4-position cache: %v", err)
	}
}

func TestFakeDeviceRejectsUnsupportedWeights(t *testing.T) {
	b, _ := newFakeBackend(t)
	defer b.Close()
	cases := []struct {
		name     string
		typ      gguf.Type
		ne0, ne1 int
		bytes    int
	}{
		{"q2_k has no kernels", gguf.TypeQ2_K, 256, 1, int(gguf.TypeQ2_K.RowSize(256))},
		{"ne0 not a multiple of 8", gguf.TypeF32, 12, 2, 96},
		{"short data", gguf.TypeQ8_0, 64, 2, 60},
		{"quantized norm vector", gguf.TypeQ8_0, 32, 1, 34},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := b.LoadWeight("w", c.typ, c.ne0, c.ne1, make([]byte, c.bytes))
			if err == nil {
				w.Free()
				t.Fatalf("LoadWeight(%s [%d, %d], %d bytes) accepted", c.typ, c.ne0, c.ne1, c.bytes)
			}
			if !strings.Contains(err.Error(), `"w"`) {
				t.Errorf("error %q does not name the tensor", err)
			}
		})
	}
	if b.Allocated() != 0 {
		t.Fatalf("%d bytes held after rejected loads", b.Allocated())
	}
}

func TestFakeDeviceWidensNormVectors(t *testing.T) {
	b, fake := newFakeBackend(t)
	defer b.Close()
	w, err := b.LoadWeight("attn_norm", gguf.TypeF16, 8, 1, []byte{0, 0x3c, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x3c})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Free()
	if w.Type() != gguf.TypeF32 || w.Bytes() != 32 {
		t.Fatalf("F16 norm vector loaded as %s, %d bytes; want F32, 32", w.Type(), w.Bytes())
	}
	raw, _ := fake.region(w.(*weight).ptr, 32)
	got := make([]float32, 8)
	for i := range got {
		got[i] = *(*float32)(unsafeAt(raw, 4*i))
	}
	if got[0] != 1 || got[1] != -2 || got[7] != 1 {
		t.Fatalf("widened vector %v, want [1 -2 0 0 0 0 0 1]", got)
	}
}

func TestFakeDeviceCapture(t *testing.T) {
	b, fake := newFakeBackend(t)
	defer b.Close()
	x, _ := b.NewBuffer(64)
	defer x.Free()
	g, err := b.Capture(func() { b.Add(x, x, 64); b.SwiGLU(x, x, x, 64) })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	if len(fake.execs) != 1 || len(fake.execs[g.exec]) != 2 || len(fake.launches) != 0 {
		t.Fatalf("capture made %d graphs (%d nodes) and ran %d kernels; want 1 graph of 2 and 0", len(fake.execs), len(fake.execs[g.exec]), len(fake.launches))
	}
	if err := g.Launch(); err != nil {
		t.Fatal(err)
	}
	// A failing op inside a capture fails the capture.
	fake.failNext["launch:"+kAdd] = 700
	if _, err := b.Capture(func() { b.Add(x, x, 64) }); err == nil {
		t.Fatal("capture with a failed launch succeeded")
	}
}
