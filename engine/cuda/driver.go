// This file binds the CUDA driver API. libcuda.so.1 is opened at run time
// with purego (no cgo), so a binary built with CGO_ENABLED=0 runs on hosts
// with and without an NVIDIA driver; without one, every entry point reports
// ErrNoDevice. Functions are bound by their versioned symbol names (the
// names cuda.h maps the plain names to, e.g. cuMemAlloc_v2), and every
// CUresult other than CUDA_SUCCESS becomes an *Error naming the call.
//
// Calls take Go pointers as typed parameters, so purego keeps the pointed-to
// memory alive and pinned for the duration of the call; the one exception is
// cuLaunchKernel, called through purego.SyscallN on argument slots that live
// in a heap-allocated launcher (see device.go).
package cuda

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// ErrNoDevice reports that no usable CUDA device is present: the driver
// library is missing, it finds no GPU, or the GPU is older than the oldest
// PTX the kernels ship (compute capability 8.0).
var ErrNoDevice = errors.New("cuda: no CUDA device")

// ErrOutOfMemory reports that device memory is exhausted or a model does not
// fit in the free device memory.
var ErrOutOfMemory = errors.New("cuda: out of device memory")

// ErrDeviceFailed reports that the device's context is unusable after a
// kernel fault (a sticky error such as CUDA_ERROR_ILLEGAL_ADDRESS): every
// later call on it fails until the context is reset.
var ErrDeviceFailed = errors.New("cuda: device failed")

// Error is a failed driver call: the call's name and the driver's name and
// description of the CUresult.
type Error struct {
	Call string // driver function, e.g. "cuMemAlloc_v2"
	Code int32  // CUresult
	Name string // cuGetErrorName, e.g. "CUDA_ERROR_OUT_OF_MEMORY"
	Msg  string // cuGetErrorString
}

func (e *Error) Error() string {
	return fmt.Sprintf("cuda: %s: %s (%d): %s", e.Call, e.Name, e.Code, e.Msg)
}

// CUresult codes the backend treats specially (cuda.h enum cudaError_enum).
const (
	cudaSuccess          = 0
	cudaErrOutOfMemory   = 2
	cudaErrNoDevice      = 100
	cudaErrNotFound      = 500
	cudaErrNotSupported  = 801
	cudaErrInsufficientD = 35 // CUDA_ERROR_INSUFFICIENT_DRIVER
)

// stickyCodes are the CUresults after which the context cannot be used
// again and must be destroyed or reset (cuda.h: "This leaves the process
// in an inconsistent state and any further CUDA work will return the same
// error"): illegal address, launch timeout, hardware stack error, illegal
// instruction, misaligned address, invalid address space, invalid PC,
// launch failure.
var stickyCodes = map[int32]bool{700: true, 702: true, 714: true, 715: true, 716: true, 717: true, 718: true, 719: true}

// Is lets errors.Is match ErrNoDevice, ErrOutOfMemory and ErrDeviceFailed.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrDeviceFailed:
		return stickyCodes[e.Code]
	case ErrNoDevice:
		return e.Code == cudaErrNoDevice || e.Code == cudaErrInsufficientD
	case ErrOutOfMemory:
		return e.Code == cudaErrOutOfMemory
	}
	return false
}

// Device attributes (cuda.h CUdevice_attribute).
const (
	attrMultiprocessorCount    = 16
	attrComputeCapabilityMajor = 75
	attrComputeCapabilityMinor = 76
	attrMaxSharedPerBlockOptin = 97
)

// JIT options (cuda.h CUjit_option).
const (
	jitInfoLogBuffer       = 3
	jitInfoLogBufferBytes  = 4
	jitErrorLogBuffer      = 5
	jitErrorLogBufferBytes = 6
)

// Stream capture modes (cuda.h CUstreamCaptureMode). Relaxed lets other
// threads make unrelated driver calls while a capture is under way.
const captureModeRelaxed = 2

// driver holds the bound entry points. All handles are opaque pointers
// (uintptr); device pointers are CUdeviceptr (uint64).
type driver struct {
	cuInit                      func(flags uint32) int32
	cuDriverGetVersion          func(v *int32) int32
	cuDeviceGetCount            func(n *int32) int32
	cuDeviceGet                 func(dev *int32, ordinal int32) int32
	cuDeviceGetName             func(name *byte, n int32, dev int32) int32
	cuDeviceGetAttribute        func(v *int32, attr int32, dev int32) int32
	cuDeviceTotalMem            func(bytes *uint64, dev int32) int32
	cuDevicePrimaryCtxRetain    func(ctx *uintptr, dev int32) int32
	cuDevicePrimaryCtxRelease   func(dev int32) int32
	cuDevicePrimaryCtxReset     func(dev int32) int32
	cuCtxSetCurrent             func(ctx uintptr) int32
	cuCtxSynchronize            func() int32
	cuMemAlloc                  func(p *uint64, bytes uint64) int32
	cuMemFree                   func(p uint64) int32
	cuMemGetInfo                func(free, total *uint64) int32
	cuMemcpyHtoD                func(dst uint64, src unsafe.Pointer, bytes uint64) int32
	cuMemcpyDtoH                func(dst unsafe.Pointer, src uint64, bytes uint64) int32
	cuMemcpyHtoDAsync           func(dst uint64, src unsafe.Pointer, bytes uint64, stream uintptr) int32
	cuMemcpyDtoHAsync           func(dst unsafe.Pointer, src uint64, bytes uint64, stream uintptr) int32
	cuMemcpyDtoDAsync           func(dst, src uint64, bytes uint64, stream uintptr) int32
	cuMemsetD32                 func(p uint64, v uint32, n uint64) int32
	cuMemsetD32Async            func(p uint64, v uint32, n uint64, stream uintptr) int32
	cuStreamCreate              func(s *uintptr, flags uint32) int32
	cuStreamDestroy             func(s uintptr) int32
	cuStreamSynchronize         func(s uintptr) int32
	cuEventCreate               func(e *uintptr, flags uint32) int32
	cuEventRecord               func(e, s uintptr) int32
	cuEventSynchronize          func(e uintptr) int32
	cuEventElapsedTime          func(ms *float32, start, end uintptr) int32
	cuEventDestroy              func(e uintptr) int32
	cuModuleLoadDataEx          func(m *uintptr, image *byte, n uint32, opts *int32, vals *uintptr) int32
	cuModuleUnload              func(m uintptr) int32
	cuModuleGetFunction         func(f *uintptr, m uintptr, name *byte) int32
	cuStreamBeginCapture        func(s uintptr, mode int32) int32
	cuStreamEndCapture          func(s uintptr, g *uintptr) int32
	cuGraphInstantiateWithFlags func(exec *uintptr, g uintptr, flags uint64) int32
	cuGraphLaunch               func(exec, s uintptr) int32
	cuGraphExecUpdate           func(exec, g uintptr, info *graphExecUpdateInfo) int32 // nil if absent
	cuGraphDestroy              func(g uintptr) int32
	cuGraphExecDestroy          func(exec uintptr) int32
	cuGetErrorName              func(r int32, s **byte) int32
	cuGetErrorString            func(r int32, s **byte) int32

	launchKernel uintptr // cuLaunchKernel, called through purego.SyscallN
}

// graphExecUpdateInfo is CUgraphExecUpdateResultInfo (cuda.h, CUDA 12).
type graphExecUpdateInfo struct {
	Result        int32
	_             int32
	ErrorNode     uintptr
	ErrorFromNode uintptr
}

// libNames are tried in order; libcuda.so.1 is the name the driver package
// installs (the unversioned name comes only with development packages).
var libNames = []string{"libcuda.so.1", "libcuda.so"}

var (
	drvOnce sync.Once
	drv     *driver
	drvErr  error
)

// loadDriver opens the driver library and binds its functions once per
// process, then calls cuInit.
func loadDriver() (*driver, error) {
	drvOnce.Do(func() { drv, drvErr = openDriver() })
	return drv, drvErr
}

func openDriver() (*driver, error) {
	var lib uintptr
	var openErr error
	for _, name := range libNames {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			lib = h
			break
		}
		openErr = err
	}
	if lib == 0 {
		return nil, fmt.Errorf("%w: cannot open the driver library: %v", ErrNoDevice, openErr)
	}
	d := &driver{}
	binds := []struct {
		fptr     any
		name     string
		optional bool
	}{
		{&d.cuInit, "cuInit", false},
		{&d.cuDriverGetVersion, "cuDriverGetVersion", false},
		{&d.cuDeviceGetCount, "cuDeviceGetCount", false},
		{&d.cuDeviceGet, "cuDeviceGet", false},
		{&d.cuDeviceGetName, "cuDeviceGetName", false},
		{&d.cuDeviceGetAttribute, "cuDeviceGetAttribute", false},
		{&d.cuDeviceTotalMem, "cuDeviceTotalMem_v2", false},
		{&d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", false},
		{&d.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", false},
		{&d.cuDevicePrimaryCtxReset, "cuDevicePrimaryCtxReset_v2", false},
		{&d.cuCtxSetCurrent, "cuCtxSetCurrent", false},
		{&d.cuCtxSynchronize, "cuCtxSynchronize", false},
		{&d.cuMemAlloc, "cuMemAlloc_v2", false},
		{&d.cuMemFree, "cuMemFree_v2", false},
		{&d.cuMemGetInfo, "cuMemGetInfo_v2", false},
		{&d.cuMemcpyHtoD, "cuMemcpyHtoD_v2", false},
		{&d.cuMemcpyDtoH, "cuMemcpyDtoH_v2", false},
		{&d.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", false},
		{&d.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", false},
		{&d.cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", false},
		{&d.cuMemsetD32, "cuMemsetD32_v2", false},
		{&d.cuMemsetD32Async, "cuMemsetD32Async", false},
		{&d.cuStreamCreate, "cuStreamCreate", false},
		{&d.cuStreamDestroy, "cuStreamDestroy_v2", false},
		{&d.cuStreamSynchronize, "cuStreamSynchronize", false},
		{&d.cuEventCreate, "cuEventCreate", false},
		{&d.cuEventRecord, "cuEventRecord", false},
		{&d.cuEventSynchronize, "cuEventSynchronize", false},
		{&d.cuEventElapsedTime, "cuEventElapsedTime", false},
		{&d.cuEventDestroy, "cuEventDestroy_v2", false},
		{&d.cuModuleLoadDataEx, "cuModuleLoadDataEx", false},
		{&d.cuModuleUnload, "cuModuleUnload", false},
		{&d.cuModuleGetFunction, "cuModuleGetFunction", false},
		{&d.cuStreamBeginCapture, "cuStreamBeginCapture_v2", false},
		{&d.cuStreamEndCapture, "cuStreamEndCapture", false},
		{&d.cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags", false},
		{&d.cuGraphLaunch, "cuGraphLaunch", false},
		{&d.cuGraphExecUpdate, "cuGraphExecUpdate_v2", true},
		{&d.cuGraphDestroy, "cuGraphDestroy", false},
		{&d.cuGraphExecDestroy, "cuGraphExecDestroy", false},
		{&d.cuGetErrorName, "cuGetErrorName", false},
		{&d.cuGetErrorString, "cuGetErrorString", false},
	}
	for _, b := range binds {
		sym, err := purego.Dlsym(lib, b.name)
		if err != nil || sym == 0 {
			if b.optional {
				continue
			}
			return nil, fmt.Errorf("%w: driver lacks %s (driver too old?)", ErrNoDevice, b.name)
		}
		purego.RegisterFunc(b.fptr, sym)
	}
	sym, err := purego.Dlsym(lib, "cuLaunchKernel")
	if err != nil || sym == 0 {
		return nil, fmt.Errorf("%w: driver lacks cuLaunchKernel", ErrNoDevice)
	}
	d.launchKernel = sym
	if err := d.check("cuInit", d.cuInit(0)); err != nil {
		if errors.Is(err, ErrNoDevice) {
			return nil, fmt.Errorf("%w: %v", ErrNoDevice, err)
		}
		return nil, err
	}
	return d, nil
}

// check turns a CUresult into nil or an *Error for call.
func (d *driver) check(call string, r int32) error {
	if r == cudaSuccess {
		return nil
	}
	e := &Error{Call: call, Code: r, Name: "CUDA_ERROR_UNKNOWN", Msg: "unrecognized error code"}
	var s *byte
	if d.cuGetErrorName(r, &s) == cudaSuccess {
		e.Name = cString(s)
	}
	s = nil
	if d.cuGetErrorString(r, &s) == cudaSuccess {
		e.Msg = cString(s)
	}
	return e
}

// cString copies a NUL-terminated C string owned by the driver.
func cString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

// cBytes returns s as a NUL-terminated byte slice.
func cBytes(s string) []byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b
}
