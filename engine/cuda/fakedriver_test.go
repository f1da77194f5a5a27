// A fake driver for testing the backend's host side without a GPU: device
// memory is Go memory, copies are copies, and every kernel launch is checked
// against the kernel's parameter list in the embedded PTX (count and types),
// its grid and block limits, and the device pointers it passes. The kernels
// themselves do not run here (kernels/emu_test.go runs them under
// emulation), so results read back are whatever the fake memory holds.
package cuda

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"unsafe"

	"github.com/helexa/helexa/kernels"
)

type fakeGPU struct {
	t        testing.TB
	total    uint64
	mem      map[uint64][]byte
	next     uint64
	launches []fakeLaunch      // kernels that ran, in order
	params   map[string]string // kernel -> parameter kinds from the PTX: 'w' 64-bit, 'i' 32-bit int, 'f' f32
	failNext map[string]int32  // call name -> CUresult to return once
	sink     fakeSink          // where copies and kernels take effect

	// The strict model of fakestream_test.go.
	queues        map[uintptr][]fakeOp // queued work per stream (legacyStream included)
	streams       map[uintptr]bool     // live streams
	moduleLoaded  bool
	sticky        int32            // the error poisoning the context until a reset
	faultNext     map[string]int32 // kernel -> sticky error it raises when it runs
	capturing     uintptr          // stream being captured, or noCapture
	captureBroken bool             // an illegal call during the capture
	nodes         []fakeOp         // the capture so far
	graphs, execs map[uintptr][]fakeOp
	handle        uintptr
	resets        int
}

// noCapture is the capturing value when no capture is under way.
const noCapture = ^uintptr(0)

// fakeSink is where the fake device's memory effects land: Go memory
// (goSink) or the emulator process (emudriver_test.go).
type fakeSink interface {
	alloc(p, n uint64)
	free(p uint64)
	write(dst uint64, b []byte)
	read(src uint64, b []byte)
	memset(p uint64, v uint32, n uint64)
	run(l fakeLaunch) int32
}

// goSink keeps device memory in the fake's Go map; kernels do not run.
type goSink struct{ f *fakeGPU }

func (g goSink) alloc(p, n uint64) {}
func (g goSink) free(p uint64)     {}
func (g goSink) write(dst uint64, b []byte) {
	r, _ := g.f.region(dst, uint64(len(b)))
	copy(r, b)
}
func (g goSink) read(src uint64, b []byte) {
	r, _ := g.f.region(src, uint64(len(b)))
	copy(b, r)
}
func (g goSink) memset(p uint64, v uint32, n uint64) {
	b, _ := g.f.region(p, 4*n)
	for i := uint64(0); i < n; i++ {
		*(*uint32)(unsafe.Pointer(&b[4*i])) = v
	}
}
func (g goSink) run(fakeLaunch) int32 { return cudaSuccess }

type fakeLaunch struct {
	name        string
	grid, block dim3
	args        []karg
}

// ptxParams parses the parameter kinds of every .entry of a PTX module.
func ptxParams(src []byte) map[string]string {
	out := map[string]string{}
	var cur string
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, ".visible .entry "); ok {
			cur = strings.TrimSuffix(rest, "(")
			out[cur] = ""
			continue
		}
		if cur == "" {
			continue
		}
		if strings.HasPrefix(line, ")") {
			cur = ""
			continue
		}
		if f := strings.Fields(line); len(f) >= 2 && f[0] == ".param" {
			switch f[1] {
			case ".u64", ".b64", ".s64":
				out[cur] += "w"
			case ".u32", ".s32", ".b32":
				out[cur] += "i"
			case ".f32":
				out[cur] += "f"
			default:
				out[cur] += "?"
			}
		}
	}
	return out
}

func newFakeGPU(t testing.TB) *fakeGPU {
	_, src := kernels.PTX(90)
	f := &fakeGPU{t: t, total: 1 << 30, mem: map[uint64][]byte{}, next: 1 << 20, params: ptxParams(src),
		failNext: map[string]int32{}, queues: map[uintptr][]fakeOp{}, streams: map[uintptr]bool{},
		faultNext: map[string]int32{}, capturing: noCapture, graphs: map[uintptr][]fakeOp{},
		execs: map[uintptr][]fakeOp{}, handle: 1000}
	f.sink = goSink{f}
	return f
}

func (f *fakeGPU) used() uint64 {
	var n uint64
	for _, b := range f.mem {
		n += uint64(len(b))
	}
	return n
}

// region returns the allocation holding [p, p+n).
func (f *fakeGPU) region(p, n uint64) ([]byte, bool) {
	for base, b := range f.mem {
		if p >= base && p+n <= base+uint64(len(b)) {
			return b[p-base : p-base+n], true
		}
	}
	return nil, false
}

func (f *fakeGPU) fail(call string) int32 {
	if r, ok := f.failNext[call]; ok {
		delete(f.failNext, call)
		return r
	}
	return cudaSuccess
}

var fakeNames = map[int32][2]string{
	cudaErrOutOfMemory:          {"CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
	cudaErrInvalidHandle:        {"CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
	cudaErrIllegalAddress:       {"CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
	cudaErrLaunchFailed:         {"CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
	cudaErrLaunchOutOfResources: {"CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
	cudaErrCaptureUnsupp:        {"CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", "operation not permitted when stream is capturing"},
	cudaErrCaptureInvalid:       {"CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", "operation failed due to a previous error during capture"},
	cudaErrGraphExecUpdate:      {"CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE", "the graph update was not performed"},
}

var fakeStrings = map[string][]byte{}

func cStr(s string) *byte {
	if b, ok := fakeStrings[s]; ok {
		return &b[0]
	}
	b := cBytes(s)
	fakeStrings[s] = b
	return &b[0]
}

func (f *fakeGPU) driver() *driver {
	d := &driver{}
	// live fails a call on a poisoned context.
	live := func(call string) int32 {
		if f.sticky != cudaSuccess {
			return f.sticky
		}
		return f.fail(call)
	}
	ok := func() int32 { return cudaSuccess }
	d.cuCtxSetCurrent = func(uintptr) int32 { return f.fail("cuCtxSetCurrent") }
	d.cuCtxSynchronize = func() int32 { return f.ctxSync() }
	d.cuMemAlloc = func(p *uint64, n uint64) int32 {
		if r := live("cuMemAlloc"); r != cudaSuccess {
			return r
		}
		if f.used()+n > f.total {
			return cudaErrOutOfMemory
		}
		*p = f.next
		f.mem[f.next] = make([]byte, n)
		f.sink.alloc(f.next, n)
		f.next += (n + 511) &^ 255 // 256-byte aligned, with a gap that catches overruns
		return cudaSuccess
	}
	d.cuMemFree = func(p uint64) int32 {
		if r := live("cuMemFree"); r != cudaSuccess {
			return r
		}
		if _, ok := f.mem[p]; !ok {
			f.t.Errorf("cuMemFree of %#x, not an allocation", p)
			return 1
		}
		delete(f.mem, p)
		f.sink.free(p)
		return cudaSuccess
	}
	d.cuMemGetInfo = func(free, total *uint64) int32 {
		if r := live("cuMemGetInfo"); r != cudaSuccess {
			return r
		}
		*free, *total = f.total-f.used(), f.total
		return cudaSuccess
	}
	inBounds := func(what string, p, n uint64) bool {
		if _, ok := f.region(p, n); !ok {
			f.t.Errorf("%s of %d bytes at %#x outside any allocation", what, n, p)
			return false
		}
		return true
	}
	// The synchronous copy stages its source now and lands at the legacy
	// stream's next synchronize.
	d.cuMemcpyHtoD = func(dst uint64, src unsafe.Pointer, n uint64) int32 {
		if r := live("cuMemcpyHtoD"); r != cudaSuccess {
			return r
		}
		if !inBounds("host-to-device copy", dst, n) {
			return 1
		}
		staged := append([]byte(nil), unsafe.Slice((*byte)(src), n)...)
		return f.enqueue(legacyStream, f.copyInOp(dst, unsafe.Pointer(&staged[0]), n))
	}
	d.cuMemcpyDtoH = func(dst unsafe.Pointer, src uint64, n uint64) int32 {
		if r := live("cuMemcpyDtoH"); r != cudaSuccess {
			return r
		}
		if !inBounds("device-to-host copy", src, n) {
			return 1
		}
		if r := f.enqueue(legacyStream, f.copyOutOp(dst, src, n)); r != cudaSuccess {
			return r
		}
		f.drain(legacyStream)
		return f.sticky
	}
	d.cuMemcpyHtoDAsync = func(dst uint64, src unsafe.Pointer, n uint64, s uintptr) int32 {
		if r := live("cuMemcpyHtoDAsync"); r != cudaSuccess {
			return r
		}
		if !inBounds("host-to-device copy", dst, n) {
			return 1
		}
		return f.enqueue(s, f.copyInOp(dst, src, n))
	}
	d.cuMemcpyDtoHAsync = func(dst unsafe.Pointer, src uint64, n uint64, s uintptr) int32 {
		if r := live("cuMemcpyDtoHAsync"); r != cudaSuccess {
			return r
		}
		if !inBounds("device-to-host copy", src, n) {
			return 1
		}
		return f.enqueue(s, f.copyOutOp(dst, src, n))
	}
	memset := func(p uint64, v uint32, n uint64, s uintptr) int32 {
		if r := live("cuMemsetD32"); r != cudaSuccess {
			return r
		}
		if !inBounds("memset", p, 4*n) {
			return 1
		}
		return f.enqueue(s, fakeOp{kind: 's', run: func() int32 {
			if _, ok := f.region(p, 4*n); !ok {
				return cudaErrIllegalAddress
			}
			f.sink.memset(p, v, n)
			return cudaSuccess
		}})
	}
	d.cuMemsetD32 = func(p uint64, v uint32, n uint64) int32 { return memset(p, v, n, legacyStream) }
	d.cuMemsetD32Async = memset
	d.cuStreamCreate = func(s *uintptr, _ uint32) int32 {
		if r := live("cuStreamCreate"); r != cudaSuccess {
			return r
		}
		f.handle++
		f.streams[f.handle] = true
		*s = f.handle
		return cudaSuccess
	}
	d.cuStreamDestroy = func(s uintptr) int32 {
		if !f.streams[s] {
			return cudaErrInvalidHandle
		}
		f.drain(s) // its work completes before the resources go
		delete(f.streams, s)
		return cudaSuccess
	}
	d.cuStreamSynchronize = f.streamSync
	d.cuModuleLoadDataEx = func(m *uintptr, _ *byte, _ uint32, _ *int32, _ *uintptr) int32 {
		if r := live("cuModuleLoadDataEx"); r != cudaSuccess {
			return r
		}
		f.moduleLoaded = true
		*m = 3
		return cudaSuccess
	}
	d.cuModuleGetFunction = func(fn *uintptr, _ uintptr, name *byte) int32 {
		if _, ok := f.params[cString(name)]; !ok {
			return cudaErrNotFound
		}
		f.handle++
		*fn = f.handle
		return cudaSuccess
	}
	d.cuModuleUnload = func(uintptr) int32 {
		if n := f.queuedKernels(); n > 0 {
			f.t.Errorf("cuModuleUnload with %d kernels still queued: they would run without their code", n)
		}
		f.moduleLoaded = false
		return cudaSuccess
	}
	d.cuGetErrorName = func(r int32, s **byte) int32 {
		if n, ok := fakeNames[r]; ok {
			*s = cStr(n[0])
			return cudaSuccess
		}
		return 1
	}
	d.cuGetErrorString = func(r int32, s **byte) int32 {
		if n, ok := fakeNames[r]; ok {
			*s = cStr(n[1])
			return cudaSuccess
		}
		return 1
	}
	d.cuStreamBeginCapture = func(s uintptr, _ int32) int32 { return f.beginCapture(s) }
	d.cuStreamEndCapture = f.endCapture
	d.cuGraphInstantiateWithFlags = func(e *uintptr, g uintptr, _ uint64) int32 {
		if r := live("cuGraphInstantiate"); r != cudaSuccess {
			return r
		}
		return f.instantiate(e, g)
	}
	d.cuGraphExecUpdate = func(e, g uintptr, _ *graphExecUpdateInfo) int32 { return f.execUpdate(e, g) }
	d.cuGraphLaunch = func(e, s uintptr) int32 {
		if r := live("cuGraphLaunch"); r != cudaSuccess {
			return r
		}
		return f.graphLaunch(e, s)
	}
	d.cuGraphDestroy = func(g uintptr) int32 { delete(f.graphs, g); return ok() }
	d.cuGraphExecDestroy = func(e uintptr) int32 { delete(f.execs, e); return ok() }
	d.cuDevicePrimaryCtxRelease = func(int32) int32 { return ok() }
	d.cuDevicePrimaryCtxReset = func(int32) int32 { return f.reset() }
	return d
}

// launch checks a kernel launch against the PTX and queues it on stream s.
func (f *fakeGPU) launch(s uintptr, name string, grid, block dim3, args []karg) int32 {
	want, ok := f.params[name]
	if !ok {
		f.t.Errorf("launch of %s: no such .entry in the PTX", name)
		return 1
	}
	var got strings.Builder
	for _, a := range args {
		switch a.kind {
		case 'p', 'u':
			got.WriteByte('w')
		default:
			got.WriteByte(a.kind)
		}
	}
	if got.String() != want {
		f.t.Errorf("launch of %s: argument kinds %q, the kernel's parameters are %q", name, got.String(), want)
	}
	threads := block.x * block.y * block.z
	if grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.y > 65535 || grid.z > 65535 || threads == 0 || threads > 1024 {
		f.t.Errorf("launch of %s: grid %+v block %+v outside the hardware limits", name, grid, block)
	}
	if f.sticky != cudaSuccess {
		return f.sticky
	}
	for i, a := range args {
		if a.kind == 'p' {
			if _, ok := f.region(a.v, 1); !ok {
				f.t.Errorf("launch of %s: argument %d = %#x is not device memory", name, i, a.v)
			}
		}
	}
	if r := f.fail("launch:" + name); r != cudaSuccess {
		return r
	}
	return f.enqueue(s, f.kernelOp(fakeLaunch{name, grid, block, append([]karg(nil), args...)}))
}

// kernelsLaunched lists the distinct kernels launched so far.
func (f *fakeGPU) kernelsLaunched() []string {
	seen := map[string]bool{}
	for _, l := range f.launches {
		seen[l.name] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// newFakeBackend returns a backend on a fake compute capability 9.0 device.
func newFakeBackend(t testing.TB) (*Backend, *fakeGPU) {
	f := newFakeGPU(t)
	f.streams[2], f.moduleLoaded = true, true
	dv := &device{d: f.driver(), name: "Fake GPU", cc: 90, sms: 132, total: f.total, arch: "sm_90",
		ctx: 1, stream: 2, module: 3, funcs: map[string]uintptr{}, launch: new(launcher), launchHook: f.launch}
	for i, k := range kernelNames() {
		dv.funcs[k] = uintptr(100 + i)
	}
	return newBackend(dv), f
}

func (l fakeLaunch) String() string { return fmt.Sprintf("%s%v%v", l.name, l.grid, l.block) }

func unsafeAt(b []byte, off int) unsafe.Pointer { return unsafe.Pointer(&b[off]) }
