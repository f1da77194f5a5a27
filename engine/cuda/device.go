// This file holds the device: one GPU's primary context, the stream every op
// is queued on, the kernel module loaded from the embedded PTX, and the
// discipline for using them from Go.
//
// Threads: a CUDA context is current per OS thread, and goroutines move
// between threads. Every entry into the driver goes through lock, which
// takes the device mutex, locks the goroutine to its thread and makes the
// context current there (cuCtxSetCurrent is a thread-local store in the
// driver); unlock undoes both. So at most one thread uses the context at a
// time, and it is always current on that thread. Stream capture uses the
// relaxed mode, so a capture survives the calling goroutine moving threads
// between ops.
package cuda

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
	"github.com/helexa/helexa/kernels"
)

// maxKernelArgs bounds the parameters of a kernel launch (the widest kernel
// takes 10).
const maxKernelArgs = 16

// launcher holds the argument slots of cuLaunchKernel: vals are the values,
// ptrs the array of pointers to them that the driver reads. It is allocated
// once on the heap (Go's heap does not move), so the addresses handed to the
// driver through purego.SyscallN stay valid.
type launcher struct {
	vals [maxKernelArgs]uint64
	ptrs [maxKernelArgs]unsafe.Pointer
}

// device is one opened GPU.
type device struct {
	d       *driver
	ordinal int32
	dev     int32 // CUdevice
	name    string
	cc      int // compute capability, major*10 + minor
	sms     int // streaming multiprocessors
	total   uint64
	arch    string // PTX loaded, "sm_90"

	mu     sync.Mutex
	ctx    uintptr // primary context
	stream uintptr
	module uintptr
	funcs  map[string]uintptr
	launch *launcher

	// launchHook, when set (by tests, with a fake driver), receives every
	// launch instead of the driver.
	launchHook func(stream uintptr, name string, grid, block dim3, args []karg) int32
}

// openDevice opens GPU ordinal (-1 for the first), retains its primary
// context, creates a stream and loads the kernels. Any failure to find a
// usable GPU wraps ErrNoDevice.
func openDevice(ordinal int) (*device, error) {
	d, err := loadDriver()
	if err != nil {
		return nil, err
	}
	var count int32
	if err := d.check("cuDeviceGetCount", d.cuDeviceGetCount(&count)); err != nil {
		return nil, err
	}
	if count == 0 {
		return nil, fmt.Errorf("%w: the driver reports no GPU", ErrNoDevice)
	}
	if ordinal < 0 {
		ordinal = 0
	}
	if ordinal >= int(count) {
		return nil, fmt.Errorf("%w: device %d requested, %d present", ErrNoDevice, ordinal, count)
	}
	dv := &device{d: d, ordinal: int32(ordinal), launch: new(launcher), funcs: map[string]uintptr{}}
	for i := range dv.launch.ptrs {
		dv.launch.ptrs[i] = unsafe.Pointer(&dv.launch.vals[i])
	}
	if err := d.check("cuDeviceGet", d.cuDeviceGet(&dv.dev, int32(ordinal))); err != nil {
		return nil, err
	}
	var name [256]byte
	if err := d.check("cuDeviceGetName", d.cuDeviceGetName(&name[0], int32(len(name)), dv.dev)); err != nil {
		return nil, err
	}
	dv.name = cString(&name[0])
	var major, minor, sms int32
	for _, a := range []struct {
		attr int32
		dst  *int32
	}{{attrComputeCapabilityMajor, &major}, {attrComputeCapabilityMinor, &minor}, {attrMultiprocessorCount, &sms}} {
		if err := d.check("cuDeviceGetAttribute", d.cuDeviceGetAttribute(a.dst, a.attr, dv.dev)); err != nil {
			return nil, err
		}
	}
	dv.cc, dv.sms = int(major)*10+int(minor), int(sms)
	if err := d.check("cuDeviceTotalMem_v2", d.cuDeviceTotalMem(&dv.total, dv.dev)); err != nil {
		return nil, err
	}
	arch, ptx := kernels.Module(dv.cc)
	if ptx == nil {
		return nil, fmt.Errorf("%w: %s has compute capability %d.%d; the kernels need %d.%d or newer",
			ErrNoDevice, dv.name, major, minor, kernels.Archs()[0]/10, kernels.Archs()[0]%10)
	}
	dv.arch = arch

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := d.check("cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain(&dv.ctx, dv.dev)); err != nil {
		return nil, err
	}
	fail := func(err error) (*device, error) {
		dv.release()
		return nil, err
	}
	if err := d.check("cuCtxSetCurrent", d.cuCtxSetCurrent(dv.ctx)); err != nil {
		return fail(err)
	}
	// CU_STREAM_NON_BLOCKING (1): the stream never waits for the legacy
	// default stream, which the backend does not use.
	if err := d.check("cuStreamCreate", d.cuStreamCreate(&dv.stream, 1)); err != nil {
		return fail(err)
	}
	if err := dv.loadModule(ptx); err != nil {
		return fail(err)
	}
	for _, k := range kernelNames() {
		var f uintptr
		if err := d.check("cuModuleGetFunction("+k+")", d.cuModuleGetFunction(&f, dv.module, &cBytes(k)[0])); err != nil {
			return fail(err)
		}
		dv.funcs[k] = f
	}
	return dv, nil
}

// loadModule JIT-compiles the PTX module, returning the JIT's error log in
// the error when it fails.
func (dv *device) loadModule(ptx []byte) error {
	img := make([]byte, len(ptx)+1) // the driver reads PTX up to a NUL
	copy(img, ptx)
	const logBytes = 1 << 14
	errLog := make([]byte, logBytes)
	infoLog := make([]byte, logBytes)
	var pin runtime.Pinner // the driver writes the logs through raw addresses
	pin.Pin(&errLog[0])
	pin.Pin(&infoLog[0])
	defer pin.Unpin()
	opts := []int32{jitErrorLogBuffer, jitErrorLogBufferBytes, jitInfoLogBuffer, jitInfoLogBufferBytes}
	vals := []uintptr{uintptr(unsafe.Pointer(&errLog[0])), logBytes, uintptr(unsafe.Pointer(&infoLog[0])), logBytes}
	r := dv.d.cuModuleLoadDataEx(&dv.module, &img[0], uint32(len(opts)), &opts[0], &vals[0])
	if err := dv.d.check("cuModuleLoadDataEx", r); err != nil {
		return fmt.Errorf("%w; %s JIT log: %s", err, dv.arch, cString(&errLog[0]))
	}
	return nil
}

// release frees the module, stream and context reference. The caller holds
// the thread with the context current (or none was made current yet).
func (dv *device) release() {
	d := dv.d
	if dv.module != 0 {
		d.cuModuleUnload(dv.module)
		dv.module = 0
	}
	if dv.stream != 0 {
		d.cuStreamDestroy(dv.stream)
		dv.stream = 0
	}
	if dv.ctx != 0 {
		d.cuDevicePrimaryCtxRelease(dv.dev)
		dv.ctx = 0
	}
}

// deviceKey names a GPU of a driver (tests have several fake drivers).
type deviceKey struct {
	d   *driver
	dev int32
}

// deviceUsers counts the open backends of each GPU: they share its primary
// context, so a failed context may be reset only when the last one closes.
var (
	deviceUsersMu sync.Mutex
	deviceUsers   = map[deviceKey]int{}
)

// openUser counts a backend opened on the device.
func (dv *device) openUser() {
	deviceUsersMu.Lock()
	deviceUsers[deviceKey{dv.d, dv.dev}]++
	deviceUsersMu.Unlock()
}

// closeUser uncounts a backend and reports whether it was the device's last.
func (dv *device) closeUser() bool {
	deviceUsersMu.Lock()
	defer deviceUsersMu.Unlock()
	k := deviceKey{dv.d, dv.dev}
	deviceUsers[k]--
	if deviceUsers[k] > 0 {
		return false
	}
	delete(deviceUsers, k)
	return true
}

// lock makes the context current on this goroutine's thread and holds the
// device until unlock. On error the device is still held.
func (dv *device) lock() error {
	dv.mu.Lock()
	runtime.LockOSThread()
	return dv.d.check("cuCtxSetCurrent", dv.d.cuCtxSetCurrent(dv.ctx))
}

func (dv *device) unlock() {
	runtime.UnlockOSThread()
	dv.mu.Unlock()
}

// dim3 is a grid or block shape.
type dim3 struct{ x, y, z uint32 }

func grid1(n, per int) dim3 { return dim3{uint32((n + per - 1) / per), 1, 1} }

// karg is one kernel argument: its 8-byte slot and its PTX parameter type.
// The driver reads as many bytes of the slot as the parameter's size, which
// on little-endian hosts are the low bytes.
type karg struct {
	v    uint64
	kind byte // 'p' device pointer (.u64), 'u' u64 (.u64), 'i' int (.u32), 'f' float (.f32)
}

func argPtr(p uint64) karg  { return karg{p, 'p'} }
func argInt(v int) karg     { return karg{uint64(uint32(int32(v))), 'i'} }
func argU64(v uint64) karg  { return karg{v, 'u'} }
func argF32(v float32) karg { return karg{uint64(math.Float32bits(v)), 'f'} }

// launchKernel queues kernel name on the stream. The device must be locked.
func (dv *device) launchKernel(name string, grid, block dim3, args ...karg) error {
	f, ok := dv.funcs[name]
	if !ok {
		// Every launched name is in kernelNames, loaded at open.
		panic("cuda: kernel " + name + " not loaded")
	}
	if len(args) > maxKernelArgs {
		panic("cuda: too many kernel arguments for " + name)
	}
	if dv.launchHook != nil {
		if r := dv.launchHook(dv.stream, name, grid, block, args); r != cudaSuccess {
			return dv.d.check("cuLaunchKernel("+name+")", r)
		}
		return nil
	}
	l := dv.launch
	for i, a := range args {
		l.vals[i] = a.v
	}
	r, _, _ := purego.SyscallN(dv.d.launchKernel, f,
		uintptr(grid.x), uintptr(grid.y), uintptr(grid.z),
		uintptr(block.x), uintptr(block.y), uintptr(block.z),
		0, dv.stream, uintptr(unsafe.Pointer(&l.ptrs[0])), 0)
	runtime.KeepAlive(l)
	if int32(r) != cudaSuccess {
		return dv.d.check("cuLaunchKernel("+name+")", int32(r))
	}
	return nil
}
