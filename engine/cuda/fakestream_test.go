// The fake driver's model of the CUDA Driver API's ordering and lifetime
// rules, made as strict as the documentation allows and executed in the
// most adversarial order it permits, so that backend code which only works
// because a real GPU happens to be fast fails here:
//
//   - Work queued on a stream runs when something waits for it: a
//     synchronize of that stream (or of the context), an event synchronize
//     or a graph launch waited for the same way. Until then it has not run.
//   - The legacy default stream (handle 0) is separate from the backend's
//     non-blocking stream (cuStreamCreate docs: no implicit synchronization
//     with stream 0). A synchronous host-to-device copy (cuMemcpyHtoD_v2)
//     stages its source at the call ("API synchronization behavior":
//     pageable copies may return before the DMA completes) and lands only
//     at the legacy stream's next synchronize; cuCtxSynchronize runs the
//     non-blocking streams first.
//   - An asynchronous copy reads its host source (or writes its host
//     destination) when it runs, not when it is queued.
//   - A kernel fault (an injected one, or a pointer argument that is not
//     live device memory when the kernel runs) is a sticky error: every
//     later call fails with it, queued work is dropped, until
//     cuDevicePrimaryCtxReset_v2.
//   - A captured graph is a list of the recorded operations with exactly
//     the recorded arguments: a replay re-reads a captured host copy's Go
//     source and passes the captured pointers, freed or not.
//   - Unloading the module with kernels still queued is a defect the fake
//     reports (they would run without their code).
package cuda

import (
	"unsafe"
)

// CUresults of the strict model (cuda.h).
const (
	cudaErrInvalidHandle        = 400
	cudaErrIllegalAddress       = 700
	cudaErrLaunchOutOfResources = 701
	cudaErrLaunchFailed         = 719
	cudaErrCaptureUnsupp        = 900 // CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED
	cudaErrCaptureInvalid       = 901 // CUDA_ERROR_STREAM_CAPTURE_INVALIDATED
	cudaErrGraphExecUpdate      = 910 // CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE
	legacyStream                = 0
)

// fakeOp is one queued operation; run performs it and returns a CUresult.
type fakeOp struct {
	kind   byte // 'k' kernel, 'w' host-to-device, 'r' device-to-host, 's' memset, 'd' device-to-device
	kernel string
	run    func() int32
}

// enqueue queues op on stream s, or records it in the graph being captured
// on s.
func (f *fakeGPU) enqueue(s uintptr, op fakeOp) int32 {
	if f.sticky != cudaSuccess {
		return f.sticky
	}
	if s != legacyStream && !f.streams[s] {
		f.t.Errorf("operation on stream %#x, which does not exist", s)
		return cudaErrInvalidHandle
	}
	if f.capturing == s && s != legacyStream {
		f.nodes = append(f.nodes, op)
		return cudaSuccess
	}
	f.queues[s] = append(f.queues[s], op)
	return cudaSuccess
}

// drain runs stream s's queued work in order. A sticky error drops the rest.
func (f *fakeGPU) drain(s uintptr) {
	for len(f.queues[s]) > 0 {
		op := f.queues[s][0]
		f.queues[s] = f.queues[s][1:]
		if f.sticky != cudaSuccess {
			continue
		}
		if r := op.run(); r != cudaSuccess {
			f.sticky = r
		}
	}
	delete(f.queues, s)
}

// streamSync is cuStreamSynchronize.
func (f *fakeGPU) streamSync(s uintptr) int32 {
	if r := f.fail("cuStreamSynchronize"); r != cudaSuccess {
		return r
	}
	if f.capturing == s && s != legacyStream {
		// Synchronizing a capturing stream is illegal and ends the capture.
		f.captureBroken = true
		return cudaErrCaptureUnsupp
	}
	if s != legacyStream && !f.streams[s] {
		return cudaErrInvalidHandle
	}
	f.drain(s)
	return f.sticky
}

// ctxSync is cuCtxSynchronize: the non-blocking streams first, then the
// legacy stream.
func (f *fakeGPU) ctxSync() int32 {
	for s := range f.streams {
		f.drain(s)
	}
	f.drain(legacyStream)
	return f.sticky
}

// queuedKernels counts the kernels queued on any stream.
func (f *fakeGPU) queuedKernels() int {
	n := 0
	for _, q := range f.queues {
		for _, op := range q {
			if op.kind == 'k' {
				n++
			}
		}
	}
	return n
}

// kernelOp is a launch as it runs: its pointers must be live device memory
// then (a freed scratch buffer replayed by a graph faults), an injected
// fault poisons the context, and the sink (the emulator) executes it.
func (f *fakeGPU) kernelOp(l fakeLaunch) fakeOp {
	return fakeOp{kind: 'k', kernel: l.name, run: func() int32 {
		if !f.moduleLoaded {
			f.t.Errorf("kernel %s ran after its module was unloaded", l.name)
			return cudaErrInvalidHandle
		}
		for i, a := range l.args {
			if a.kind == 'p' {
				if _, ok := f.region(a.v, 1); !ok {
					f.t.Logf("kernel %s: argument %d = %#x is not live device memory: illegal address", l.name, i, a.v)
					return cudaErrIllegalAddress
				}
			}
		}
		if r, ok := f.faultNext[l.name]; ok {
			delete(f.faultNext, l.name)
			return r
		}
		f.launches = append(f.launches, l)
		return f.sink.run(l)
	}}
}

// copyInOp is a host-to-device copy that reads src when it runs.
func (f *fakeGPU) copyInOp(dst uint64, src unsafe.Pointer, n uint64) fakeOp {
	return fakeOp{kind: 'w', run: func() int32 {
		if _, ok := f.region(dst, n); !ok {
			f.t.Logf("host-to-device copy of %d bytes to %#x: not live device memory", n, dst)
			return cudaErrIllegalAddress
		}
		f.sink.write(dst, unsafe.Slice((*byte)(src), n))
		return cudaSuccess
	}}
}

// copyOutOp is a device-to-host copy that writes dst when it runs.
func (f *fakeGPU) copyOutOp(dst unsafe.Pointer, src uint64, n uint64) fakeOp {
	return fakeOp{kind: 'r', run: func() int32 {
		if _, ok := f.region(src, n); !ok {
			f.t.Logf("device-to-host copy of %d bytes from %#x: not live device memory", n, src)
			return cudaErrIllegalAddress
		}
		f.sink.read(src, unsafe.Slice((*byte)(dst), n))
		return cudaSuccess
	}}
}

// ---- graphs -------------------------------------------------------------------

func (f *fakeGPU) beginCapture(s uintptr) int32 {
	if f.sticky != cudaSuccess {
		return f.sticky
	}
	f.capturing, f.captureBroken, f.nodes = s, false, nil
	return cudaSuccess
}

func (f *fakeGPU) endCapture(s uintptr, g *uintptr) int32 {
	if f.capturing != s {
		return cudaErrInvalidHandle
	}
	f.capturing = noCapture
	if f.captureBroken {
		return cudaErrCaptureInvalid
	}
	f.handle++
	f.graphs[f.handle] = f.nodes
	f.nodes = nil
	*g = f.handle
	return cudaSuccess
}

func (f *fakeGPU) instantiate(e *uintptr, g uintptr) int32 {
	nodes, ok := f.graphs[g]
	if !ok {
		return cudaErrInvalidHandle
	}
	f.handle++
	f.execs[f.handle] = append([]fakeOp(nil), nodes...)
	*e = f.handle
	return cudaSuccess
}

// execUpdate takes the new graph's parameters when its topology (the kinds
// and kernels of its nodes, in order) is the same.
func (f *fakeGPU) execUpdate(e, g uintptr) int32 {
	old, ok1 := f.execs[e]
	nodes, ok2 := f.graphs[g]
	if !ok1 || !ok2 {
		return cudaErrInvalidHandle
	}
	if len(old) != len(nodes) {
		return cudaErrGraphExecUpdate
	}
	for i := range old {
		if old[i].kind != nodes[i].kind || old[i].kernel != nodes[i].kernel {
			return cudaErrGraphExecUpdate
		}
	}
	f.execs[e] = append([]fakeOp(nil), nodes...)
	return cudaSuccess
}

func (f *fakeGPU) graphLaunch(e, s uintptr) int32 {
	nodes, ok := f.execs[e]
	if !ok {
		return cudaErrInvalidHandle
	}
	for _, op := range nodes {
		if r := f.enqueue(s, op); r != cudaSuccess {
			return r
		}
	}
	return cudaSuccess
}

// ---- context reset ------------------------------------------------------------

// reset is cuDevicePrimaryCtxReset_v2: every allocation, stream, module and
// graph of the context is destroyed and the sticky error cleared.
func (f *fakeGPU) reset() int32 {
	for p := range f.mem {
		f.sink.free(p)
	}
	clear(f.mem)
	clear(f.queues)
	clear(f.streams)
	clear(f.graphs)
	clear(f.execs)
	f.moduleLoaded = false
	f.sticky = cudaSuccess
	f.capturing = noCapture
	f.resets++
	return cudaSuccess
}
