// This file turns a memory fault under a model's file mapping into an error
// for that model instead of the death of the process. A GGUF file truncated
// while it is mapped makes every read of the lost pages raise SIGBUS; with
// debug.SetPanicOnFault set on the reading goroutine the runtime raises a
// recoverable panic there instead. Forward passes and loads run under
// guardFaults; the CPU backend's workers set the flag themselves and hand a
// fault back to the goroutine that dispatched the work.

package engine

import (
	"errors"
	"fmt"
	"runtime/debug"
)

var (
	// ErrModelFault reports a memory fault while reading a model's mapped
	// file: the file was truncated under the running process.
	ErrModelFault = errors.New("engine: memory fault reading the model file")
	// ErrModelFailed reports a loaded model that can no longer serve (its
	// file faulted or changed on disk); it must be unloaded and loaded
	// again.
	ErrModelFailed = errors.New("engine: model failed")
)

// faultAddr is the interface of the runtime error a fault raises under
// debug.SetPanicOnFault.
type faultAddr interface{ Addr() uintptr }

// IsFault reports whether a recovered panic value is a memory fault.
func IsFault(r any) bool {
	_, ok := r.(faultAddr)
	return ok
}

// guardFaults runs f with memory faults on this goroutine turned into an
// error wrapping ErrModelFault; any other panic goes on.
func guardFaults(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			fa, ok := r.(faultAddr)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%w at address %#x (was the file truncated or replaced in place?)", ErrModelFault, fa.Addr())
		}
	}()
	return f()
}
