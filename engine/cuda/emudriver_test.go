// An emulated device for the backend's tests: the fake driver of
// fakedriver_test.go with its memory and kernel launches forwarded to
// kernels/emu/emu_server.cc, which runs the real kernel sources under the
// CUDA execution-model emulation. With it the whole forward pass of the
// reference models runs through this package's Go code and the kernels
// without a GPU and is compared with llama.cpp's logits. It needs
// clang++-16 (skipped otherwise) and is slow (seconds per model).
package cuda

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/emutest"
	"github.com/helexa/helexa/internal/reftest"
)

// TestMain removes the emulator binary the tests share.
func TestMain(m *testing.M) { emutest.Main(m) }

// emuProc is a running emulated device.
type emuProc struct {
	t     testing.TB
	cmd   *exec.Cmd
	stdin io.WriteCloser
	w     *bufio.Writer
	r     *bufio.Reader
}

func startEmu(t testing.TB) *emuProc {
	bin := emutest.Build(t, "emu_server.cc")
	seed := rand.Uint64() >> 1
	t.Logf("emulator schedule seed %d", seed)
	cmd := exec.Command(bin, fmt.Sprint(seed))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &emuProc{t: t, cmd: cmd, stdin: in, w: bufio.NewWriterSize(in, 1<<20), r: bufio.NewReader(out)}
	t.Cleanup(func() {
		e.w.WriteByte('Q')
		e.w.Flush()
		in.Close()
		cmd.Wait()
	})
	return e
}

func (e *emuProc) u64(v uint64) { binary.Write(e.w, binary.LittleEndian, v) }

func (e *emuProc) alloc(addr, n uint64) { e.w.WriteByte('A'); e.u64(addr); e.u64(n) }
func (e *emuProc) free(addr uint64)     { e.w.WriteByte('F'); e.u64(addr) }
func (e *emuProc) write(addr uint64, b []byte) {
	e.w.WriteByte('W')
	e.u64(addr)
	e.u64(uint64(len(b)))
	e.w.Write(b)
}
func (e *emuProc) memset(addr, n uint64, v uint32) {
	e.w.WriteByte('S')
	e.u64(addr)
	e.u64(n)
	binary.Write(e.w, binary.LittleEndian, v)
}

func (e *emuProc) read(addr uint64, dst []byte) error {
	e.w.WriteByte('R')
	e.u64(addr)
	e.u64(uint64(len(dst)))
	if err := e.w.Flush(); err != nil {
		return err
	}
	_, err := io.ReadFull(e.r, dst)
	return err
}

func (e *emuProc) launch(name string, grid, block dim3, args []karg) (byte, error) {
	e.w.WriteByte('L')
	e.w.WriteByte(byte(len(name)))
	e.w.WriteString(name)
	for _, v := range []uint32{grid.x, grid.y, grid.z, block.x, block.y, block.z} {
		binary.Write(e.w, binary.LittleEndian, v)
	}
	e.w.WriteByte(byte(len(args)))
	for _, a := range args {
		e.u64(a.v)
	}
	if err := e.w.Flush(); err != nil {
		return 0, err
	}
	return e.r.ReadByte()
}

// emuSink makes the fake driver's memory effects and kernels happen on the
// emulator, so the strict ordering model of fakestream_test.go governs when
// they take effect.
type emuSink struct {
	t testing.TB
	e *emuProc
}

func (s emuSink) alloc(p, n uint64)                   { s.e.alloc(p, n) }
func (s emuSink) free(p uint64)                       { s.e.free(p) }
func (s emuSink) write(dst uint64, b []byte)          { s.e.write(dst, b) }
func (s emuSink) memset(p uint64, v uint32, n uint64) { s.e.memset(p, n, v) }
func (s emuSink) read(src uint64, b []byte) {
	if err := s.e.read(src, b); err != nil {
		s.t.Errorf("emulator read: %v", err)
	}
}
func (s emuSink) run(l fakeLaunch) int32 {
	st, err := s.e.launch(l.name, l.grid, l.block, l.args)
	if err != nil || st != 0 {
		s.t.Errorf("emulated launch of %s: status %d, %v", l.name, st, err)
		return cudaErrLaunchFailed
	}
	return cudaSuccess
}

// newEmuBackend returns a backend whose device is the emulator.
func newEmuBackend(t testing.TB) (*Backend, *fakeGPU) {
	b, f := newFakeBackend(t)
	f.sink = emuSink{t, startEmu(t)}
	return b, f
}

// TestEmulatedOps runs single ops on the emulated device against float64.
func TestEmulatedOps(t *testing.T) {
	b, _ := newEmuBackend(t)
	defer b.Close()
	r := rand.New(rand.NewPCG(1, 2))
	const ne0, ne1, n = 512, 40, 12
	src := make([]float32, ne0*ne1)
	for i := range src {
		src[i] = float32(r.NormFloat64() / math.Sqrt(ne0))
	}
	x := make([]float32, n*ne0)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, typ := range weightTypes {
		data, err := gguf.Quantize(typ, src)
		if err != nil {
			t.Fatal(err)
		}
		deq := make([]float32, len(src))
		if err := gguf.Dequantize(typ, data, deq); err != nil {
			t.Fatal(err)
		}
		w, err := b.LoadWeight("w", typ, ne0, ne1, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, rows := range []int{1, n} {
			xb, _ := b.NewBuffer(rows * ne0)
			db, _ := b.NewBuffer(rows * ne1)
			b.Write(xb, x[:rows*ne0])
			b.Write(db, nanFill(rows*ne1))
			b.MatMul(db, w, xb, rows)
			got := make([]float32, rows*ne1)
			if err := b.Read(got, db); err != nil {
				t.Fatal(err)
			}
			var num, den float64
			for i := range rows {
				for o := range ne1 {
					var s float64
					for k := range ne0 {
						s += float64(deq[o*ne0+k]) * float64(x[i*ne0+k])
					}
					d := float64(got[i*ne1+o]) - s
					num, den = num+d*d, den+s*s
				}
			}
			e := math.Sqrt(num / den)
			tol := 1e-5
			if chooseMatMul(typ, 90, rows).kind == kindMatMul {
				tol = 3e-3
			}
			if !(e <= tol) {
				t.Errorf("matmul %s n=%d: normalized error %.3g exceeds %.3g", typ, rows, e, tol)
			}
			xb.Free()
			db.Free()
		}
		w.Free()
	}
}

// emuFullEnv selects both prompts of every reference model for the emulated
// forward passes (about 10 s per model); by default only the 40-token
// prompt of mini-q4_k_m runs.
const emuFullEnv = "HELEXA_EMU_FULL"

// TestEmulatedModelMatchesLlamaCpp runs reference models through the Go
// backend on the emulated device: the 5-token prompt (decode kernels) and
// the 40-token prompt (tensor-core kernel), each followed by two greedy
// steps, compared with llama.cpp's logits at the README's tolerances.
func TestEmulatedModelMatchesLlamaCpp(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the emulated forward passes in -short mode")
	}
	models := []struct {
		model string
		tol   float64
		kv    engine.KVType
	}{
		{"mini-q4_k_m", 0.15, engine.KVF32},
		{"mini-f16", 5e-3, engine.KVF16},
		{"mini-f32", 1e-4, engine.KVF32},
		{"mini-tied-f32", 1e-4, engine.KVF32}, // an f16 cache alone moves these logits by ~1e-3
		{"mini-bf16", 3e-2, engine.KVF16},
		{"mini-q8_0", 0.15, engine.KVF16},
		{"mini-q6_k", 0.15, engine.KVF32},
		{"mini-q5_k_m", 0.15, engine.KVF16},
		{"mini-q4_0", 0.15, engine.KVF32},
	}
	prompts := []int{0, 1}
	if os.Getenv(emuFullEnv) != "1" {
		models, prompts = models[:1], prompts[1:]
		t.Logf("running %s, prompt 1 only; %s=1 runs both prompts of all %d reference models", models[0].model, emuFullEnv, 9)
	}
	// Small attention scratch: the 40-token prompt's rows go through the
	// attention kernels in groups of 15.
	defer func(v int64) { attnScratchMax = v }(attnScratchMax)
	attnScratchMax = 16 << 10
	for _, tc := range models {
		t.Run(tc.model, func(t *testing.T) {
			path := reftest.Model(t, tc.model)
			exp := reftest.LoadExpected(t, tc.model)
			b, _ := newEmuBackend(t)
			defer b.Close()
			f, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := engine.LoadModel(f, b)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Free()
			nVocab := m.Config().NVocab
			logits := make([]float32, nVocab)
			for _, p := range prompts {
				ctx, err := m.NewContext(engine.ContextOptions{Ctx: 128, Batch: 64, KV: tc.kv})
				if err != nil {
					t.Fatal(err)
				}
				prompt := exp.Prompts[p]
				rows := make([]engine.Row, len(prompt))
				for i, tok := range prompt {
					rows[i] = engine.Row{Token: tok, Pos: int32(i)}
				}
				if err := ctx.Forward(rows, []int{len(rows) - 1}, logits); err != nil {
					t.Fatal(err)
				}
				var maxd float64
				for i, w := range exp.LastLogits[p] {
					maxd = max(maxd, math.Abs(float64(logits[i])-w))
					if math.IsNaN(float64(logits[i])) {
						maxd = math.Inf(1)
					}
				}
				for s := 1; s <= 2; s++ {
					row := []engine.Row{{Token: exp.Greedy[p][s-1], Pos: int32(len(prompt) + s - 1)}}
					if err := ctx.Forward(row, []int{0}, logits); err != nil {
						t.Fatal(err)
					}
					for j, id := range exp.StepTopIDs[p][s] {
						maxd = max(maxd, math.Abs(float64(logits[id])-exp.StepTopLogits[p][s][j]))
					}
				}
				ctx.Free()
				t.Logf("%s prompt %d (%d tokens) + 2 steps: max |Δlogit| vs llama.cpp %.3g (tolerance %g)", tc.model, p, len(prompt), maxd, tc.tol)
				if !(maxd <= tc.tol) {
					t.Errorf("%s prompt %d: logits differ from llama.cpp by %.3g (tolerance %g)", tc.model, p, maxd, tc.tol)
				}
			}
		})
	}
}
