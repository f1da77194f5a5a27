// Tests of the ordering and lifetime defects the strict emulated driver
// (fakestream_test.go) exposes, one or more per defect of issue #18: uploads
// ordered before the kernels that read them, host memory not read after a
// call returns, graphs that stay correct for their life, recovery from a
// kernel fault, and Close waiting for queued work. The tests that need
// kernel results run on the emulator (clang++-16, skipped without it); the
// others on the Go-memory fake.
package cuda

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// closeLast closes b when the test ends, after the resources the test
// registered for cleanup are freed, and fails the test if Close reports an
// error (a leak).
func closeLast(b *Backend, f *fakeGPU) (*Backend, *fakeGPU) {
	f.t.Cleanup(func() {
		if err := b.Close(); err != nil {
			f.t.Errorf("close: %v", err)
		}
	})
	return b, f
}

// viewBytes views x as bytes.
func viewBytes(x []float32) []byte { return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x)) }

// Defect 1: weights and the RoPE table were uploaded on the legacy stream,
// unordered with the backend's non-blocking stream.
func TestStrictUploadsReachTheKernels(t *testing.T) {
	b, _ := closeLast(newEmuBackend(t))
	const dim, vocab = 16, 4
	table := make([]float32, dim*vocab)
	for i := range table {
		table[i] = float32(i)
	}
	w, err := b.LoadWeight("token_embd.weight", gguf.TypeF32, dim, vocab, viewBytes(table))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Free()
	rows := setRows(t, b, []engine.Row{{Token: 2, Pos: 3}})
	d := upload(t, b, nanFill(dim))
	b.Embed(d, w, rows, 1)
	if got := download(t, b, d, d.Len()); !slices.Equal(got, table[2*dim:3*dim]) {
		t.Fatalf("embedding of token 2 read %v, want %v", got, table[2*dim:3*dim])
	}
	// RoPE at position 3 of one head against the formula.
	x := make([]float32, dim)
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	xb := upload(t, b, x)
	b.RoPE(xb, rows, 1, 1, dim, 10000)
	got := download(t, b, xb, xb.Len())
	for i := range dim / 2 {
		th := 3 * math.Pow(10000, -2*float64(i)/dim)
		s, c := math.Sincos(th)
		want0 := float64(x[i])*c - float64(x[i+dim/2])*s
		want1 := float64(x[i])*s + float64(x[i+dim/2])*c
		if math.Abs(float64(got[i])-want0) > 1e-4 || math.Abs(float64(got[i+dim/2])-want1) > 1e-4 {
			t.Fatalf("rope pair %d: got (%v, %v), want (%.5f, %.5f)", i, got[i], got[i+dim/2], want0, want1)
		}
	}
}

// Defect 2: Write and Rows.Set returned before the device had read the Go
// memory, which the caller may change or drop at once.
func TestStrictWriteDoesNotReadTheSourceLate(t *testing.T) {
	b, _ := closeLast(newFakeBackend(t))
	src := []float32{1, 2, 3, 4}
	x := upload(t, b, src)
	src[0], src[3] = -100, -400 // the caller reuses its slice
	if got := download(t, b, x, x.Len()); !slices.Equal(got, []float32{1, 2, 3, 4}) {
		t.Fatalf("buffer holds %v after the source changed, want [1 2 3 4]", got)
	}
	// Rows.Set reuses its packing slice: two Sets before a synchronize.
	rs, _ := b.NewRows(1, 0)
	defer rs.Free()
	if err := rs.Set([]engine.Row{{Token: 7, Pos: 8, Seq: 0}}, engine.BlockTables{}); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 12)
	b.op(func() error {
		return b.dev.d.check("copy", b.dev.d.cuMemcpyDtoHAsync(unsafe.Pointer(&first[0]), rowsOf(rs).ptr, 12, b.dev.stream))
	})
	if err := rs.Set([]engine.Row{{Token: 9, Pos: 10, Seq: 0}}, engine.BlockTables{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := *(*[3]int32)(unsafe.Pointer(&first[0])); got != [3]int32{7, 8, 0} {
		t.Fatalf("the first batch read back as %v after a second Set, want [7 8 0]", got)
	}
}

// kvFixture is a cache of one layer holding random K and V at positions
// 0..n-1 of sequence 0, with q for one row.
type kvFixture struct {
	cache         engine.KVCache
	q             engine.Buffer
	nHead, hd, nK int
}

func newKVFixture(t *testing.T, b *Backend, n int) kvFixture {
	t.Helper()
	const nHead, nHeadKV, hd = 2, 1, 32
	r := rand.New(rand.NewPCG(5, 6))
	c, err := b.NewKVCache(engine.KVShape{Layers: 1, Blocks: testBlocks(1, 600), BlockSize: testBlockSize, KVDim: nHeadKV * hd, Type: engine.KVF32})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Free)
	k, v := make([]float32, n*hd), make([]float32, n*hd)
	for i := range k {
		k[i], v[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	rows := make([]engine.Row, n)
	for i := range rows {
		rows[i] = engine.Row{Pos: int32(i)}
	}
	b.StoreKV(c, 0, upload(t, b, k), upload(t, b, v), setRows(t, b, rows), n)
	q := make([]float32, nHead*hd)
	for i := range q {
		q[i] = float32(r.NormFloat64())
	}
	return kvFixture{cache: c, q: upload(t, b, q), nHead: nHead, hd: hd, nK: nHeadKV}
}

func (f kvFixture) attend(b *Backend, dst engine.Buffer, rows engine.Rows) {
	b.Attention(dst, f.q, f.cache, 0, rows, 1, f.nHead, f.nK, f.hd, 0.2)
}

// Defect 3: a graph captured at a short position froze the number of
// attention splits, so replays at later positions ignored the newer ones.
func TestStrictGraphAttentionSeesEveryPosition(t *testing.T) {
	b, _ := closeLast(newEmuBackend(t))
	kv := newKVFixture(t, b, 300)
	rows := setRows(t, b, []engine.Row{{Pos: 299}})
	want := upload(t, b, nanFill(kv.nHead*kv.hd))
	kv.attend(b, want, rows)
	wantHost := download(t, b, want, want.Len())

	if err := rows.Set([]engine.Row{{Pos: 10}}, contiguous); err != nil {
		t.Fatal(err)
	}
	got := upload(t, b, nanFill(kv.nHead*kv.hd))
	kv.attend(b, got, rows) // the uncaptured run a capture follows
	g, err := b.Capture(func() { kv.attend(b, got, rows) })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	if err := rows.Set([]engine.Row{{Pos: 299}}, contiguous); err != nil {
		t.Fatal(err)
	}
	if err := g.Launch(); err != nil {
		t.Fatal(err)
	}
	gotHost := download(t, b, got, got.Len())
	for i := range wantHost {
		if math.Abs(float64(gotHost[i]-wantHost[i])) > 1e-5 {
			t.Fatalf("graph replay at position 299: element %d = %v, the uncaptured op gives %v", i, gotHost[i], wantHost[i])
		}
	}
}

// Defect 3: a larger op freed and replaced the scratch buffer a graph had
// captured, and the replay wrote freed memory.
func TestStrictGraphScratchOutlivesGrowth(t *testing.T) {
	b, _ := closeLast(newFakeBackend(t))
	kv := newKVFixture(t, b, 300)
	one := setRows(t, b, []engine.Row{{Pos: 10}})
	dst := upload(t, b, make([]float32, 64*kv.nHead*kv.hd))
	kv.attend(b, dst, one)
	g, err := b.Capture(func() { kv.attend(b, dst, one) })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	// 64 rows at position 299 need a larger attention scratch.
	many := make([]engine.Row, 64)
	for i := range many {
		many[i] = engine.Row{Pos: 299}
	}
	q := upload(t, b, make([]float32, 64*kv.nHead*kv.hd))
	b.Attention(dst, q, kv.cache, 0, setRows(t, b, many), 64, kv.nHead, kv.nK, kv.hd, 0.2)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := g.Launch(); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(); err != nil {
		t.Fatalf("graph replay after the scratch grew: %v", err)
	}
}

// Defect 3: the host-side checks of a captured op did not run on replay.
func TestStrictGraphReplayChecksTheBatch(t *testing.T) {
	b, _ := closeLast(newFakeBackend(t))
	w, err := b.LoadWeight("token_embd.weight", gguf.TypeF32, 8, 4, make([]byte, 4*8*4))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Free()
	rows := setRows(t, b, []engine.Row{{Token: 1}})
	d := upload(t, b, make([]float32, 8))
	g, err := b.Capture(func() { b.Embed(d, w, rows, 1) })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Destroy()
	if err := rows.Set([]engine.Row{{Token: 4}}, contiguous); err != nil { // outside the 4-token vocabulary
		t.Fatal(err)
	}
	err = g.Launch()
	if err == nil {
		err = b.Sync()
	}
	if err == nil || !strings.Contains(err.Error(), "token 4") {
		t.Fatalf("replaying an embedding of token 4 from a 4-row table: %v, want an error naming token 4", err)
	}
}

// Defect 3: an upload inside a capture became a copy node that re-reads a
// Go address at every replay.
func TestStrictCaptureRefusesHostUploads(t *testing.T) {
	b, _ := closeLast(newFakeBackend(t))
	src := upload(t, b, make([]float32, 32))
	dst := upload(t, b, make([]float32, 32))
	b.CopyRows(dst, src, []int{1, 0}, 16)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	g, err := b.Capture(func() { b.CopyRows(dst, src, []int{1, 0}, 16) })
	if err == nil {
		g.Destroy()
		t.Fatal("a capture with a host-to-device upload succeeded")
	}
	if !strings.Contains(err.Error(), "capture") {
		t.Fatalf("error %q does not say the upload was refused in a capture", err)
	}
	if err := b.Sync(); err != nil {
		t.Fatalf("after the refused capture: %v", err)
	}
}

// Defect 4: after a kernel fault the context is unusable until a reset;
// the backend says so and resets the device when its last user closes.
func TestStrictKernelFaultFailsTheBackend(t *testing.T) {
	b, fake := newFakeBackend(t)
	x, err := b.NewBuffer(100)
	if err != nil {
		t.Fatal(err)
	}
	fake.faultNext[kAdd] = cudaErrIllegalAddress
	b.Add(x, x, 100)
	err = b.Sync()
	if !errors.Is(err, ErrDeviceFailed) || !strings.Contains(err.Error(), "CUDA_ERROR_ILLEGAL_ADDRESS") {
		t.Fatalf("Sync after a kernel fault: %v, want ErrDeviceFailed naming the illegal address", err)
	}
	// Every later use fails the same way, clearly, without touching the
	// poisoned context.
	if err := b.Sync(); !errors.Is(err, ErrDeviceFailed) {
		t.Fatalf("second Sync: %v, want ErrDeviceFailed", err)
	}
	if _, err := b.NewBuffer(10); !errors.Is(err, ErrDeviceFailed) {
		t.Fatalf("NewBuffer on a failed device: %v, want ErrDeviceFailed", err)
	}
	if _, err := b.LoadWeight("w", gguf.TypeF32, 8, 2, make([]byte, 64)); !errors.Is(err, ErrDeviceFailed) {
		t.Fatalf("LoadWeight on a failed device: %v, want ErrDeviceFailed", err)
	}
	// The engine asks through an optional interface (engine.HealthReporter).
	hr, ok := any(b).(interface{ Failed() error })
	if !ok {
		t.Fatal("the backend does not report its health (Failed() error)")
	}
	if err := hr.Failed(); !errors.Is(err, ErrDeviceFailed) {
		t.Fatalf("Failed() = %v, want ErrDeviceFailed", err)
	}
	x.Free()
	if err := b.Close(); !errors.Is(err, ErrDeviceFailed) {
		t.Fatalf("Close of a failed backend: %v, want ErrDeviceFailed", err)
	}
	if fake.resets != 1 || fake.sticky != cudaSuccess {
		t.Fatalf("after the last close: %d context resets, sticky error %d; want 1 reset and none", fake.resets, fake.sticky)
	}
}

// Defect 5: Close unloaded the module and destroyed the stream with
// kernels still queued when it had no buffer of its own to free.
func TestStrictCloseWaitsForQueuedWork(t *testing.T) {
	b, fake := newFakeBackend(t)
	x, err := b.NewBuffer(100)
	if err != nil {
		t.Fatal(err)
	}
	b.Add(x, x, 100)
	err = b.Close() // x is still held: Close reports it
	if err == nil || !strings.Contains(err.Error(), "not freed") {
		t.Fatalf("Close with a buffer held: %v, want the leak reported", err)
	}
	if len(fake.launches) != 1 {
		t.Fatalf("%d kernels ran before the module was unloaded, want 1", len(fake.launches))
	}
	// Freeing after Close calls nothing on the released context.
	held := len(fake.mem)
	x.Free()
	if len(fake.mem) != held {
		t.Fatalf("Free after Close called the driver (%d allocations, was %d)", len(fake.mem), held)
	}
}
