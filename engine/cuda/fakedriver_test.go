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
	launches []fakeLaunch
	params   map[string]string // kernel -> parameter kinds from the PTX: 'w' 64-bit, 'i' 32-bit int, 'f' f32
	failNext map[string]int32  // call name -> CUresult to return once
	capture  bool
	captured []fakeLaunch
}

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
	return &fakeGPU{t: t, total: 1 << 30, mem: map[uint64][]byte{}, next: 1 << 20, params: ptxParams(src), failNext: map[string]int32{}}
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
	cudaErrOutOfMemory: {"CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
	700:                {"CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
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
	ok := func() int32 { return cudaSuccess }
	d.cuCtxSetCurrent = func(uintptr) int32 { return f.fail("cuCtxSetCurrent") }
	d.cuMemAlloc = func(p *uint64, n uint64) int32 {
		if r := f.fail("cuMemAlloc"); r != cudaSuccess {
			return r
		}
		if f.used()+n > f.total {
			return cudaErrOutOfMemory
		}
		*p = f.next
		f.mem[f.next] = make([]byte, n)
		f.next += (n + 511) &^ 255 // 256-byte aligned, with a gap that catches overruns
		return cudaSuccess
	}
	d.cuMemFree = func(p uint64) int32 {
		if _, ok := f.mem[p]; !ok {
			f.t.Errorf("cuMemFree of %#x, not an allocation", p)
			return 1
		}
		delete(f.mem, p)
		return cudaSuccess
	}
	d.cuMemGetInfo = func(free, total *uint64) int32 {
		*free, *total = f.total-f.used(), f.total
		return cudaSuccess
	}
	copyIn := func(dst uint64, src unsafe.Pointer, n uint64) int32 {
		b, ok := f.region(dst, n)
		if !ok {
			f.t.Errorf("copy of %d bytes to %#x outside any allocation", n, dst)
			return 1
		}
		copy(b, unsafe.Slice((*byte)(src), n))
		return cudaSuccess
	}
	d.cuMemcpyHtoD = copyIn
	d.cuMemcpyHtoDAsync = func(dst uint64, src unsafe.Pointer, n uint64, _ uintptr) int32 {
		if f.capture {
			f.t.Errorf("host-to-device copy during a capture")
		}
		return copyIn(dst, src, n)
	}
	d.cuMemcpyDtoHAsync = func(dst unsafe.Pointer, src uint64, n uint64, _ uintptr) int32 {
		b, ok := f.region(src, n)
		if !ok {
			f.t.Errorf("copy of %d bytes from %#x outside any allocation", n, src)
			return 1
		}
		copy(unsafe.Slice((*byte)(dst), n), b)
		return cudaSuccess
	}
	d.cuMemsetD32Async = func(p uint64, v uint32, n uint64, _ uintptr) int32 {
		b, ok := f.region(p, 4*n)
		if !ok {
			f.t.Errorf("memset of %d words at %#x outside any allocation", n, p)
			return 1
		}
		for i := uint64(0); i < n; i++ {
			*(*uint32)(unsafe.Pointer(&b[4*i])) = v
		}
		return cudaSuccess
	}
	d.cuStreamSynchronize = func(uintptr) int32 { return f.fail("cuStreamSynchronize") }
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
	d.cuStreamBeginCapture = func(uintptr, int32) int32 { f.capture = true; f.captured = nil; return cudaSuccess }
	d.cuStreamEndCapture = func(_ uintptr, g *uintptr) int32 { f.capture = false; *g = 77; return cudaSuccess }
	d.cuGraphInstantiateWithFlags = func(e *uintptr, _ uintptr, _ uint64) int32 { *e = 78; return cudaSuccess }
	d.cuGraphLaunch = func(uintptr, uintptr) int32 { return cudaSuccess }
	d.cuGraphDestroy = func(uintptr) int32 { return ok() }
	d.cuGraphExecDestroy = func(uintptr) int32 { return ok() }
	d.cuModuleUnload = func(uintptr) int32 { return ok() }
	d.cuStreamDestroy = func(uintptr) int32 { return ok() }
	d.cuDevicePrimaryCtxRelease = func(int32) int32 { return ok() }
	return d
}

// launch checks a kernel launch against the PTX and records it.
func (f *fakeGPU) launch(name string, grid, block dim3, args []karg) int32 {
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
	l := fakeLaunch{name, grid, block, append([]karg(nil), args...)}
	if f.capture {
		f.captured = append(f.captured, l)
	} else {
		f.launches = append(f.launches, l)
	}
	return cudaSuccess
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
	dv := &device{d: f.driver(), name: "Fake GPU", cc: 90, sms: 132, total: f.total, arch: "sm_90",
		ctx: 1, stream: 2, module: 3, funcs: map[string]uintptr{}, launch: new(launcher), launchHook: f.launch}
	for i, k := range kernelNames() {
		dv.funcs[k] = uintptr(100 + i)
	}
	return &Backend{dev: dv, invFreq: map[ropeKey]scratchBuf{}}, f
}

func (l fakeLaunch) String() string { return fmt.Sprintf("%s%v%v", l.name, l.grid, l.block) }

func unsafeAt(b []byte, off int) unsafe.Pointer { return unsafe.Pointer(&b[off]) }
