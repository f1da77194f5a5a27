// This file checks how opening the CUDA backend fails on a host without a
// driver: through the engine's registry the error is ErrNoDevice and the
// backend is a true nil, so callers that clean up on error never call
// methods on a nil *Backend.

package cuda

import (
	"errors"
	"testing"

	"github.com/helexa/helexa/engine"
)

func TestOpenThroughEngineWithoutDevice(t *testing.T) {
	if d, err := Open(-1); err == nil {
		d.Close()
		t.Skip("a CUDA device is present")
	}
	b, err := engine.OpenBackend("cuda", -1, engine.BackendOptions{})
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("err = %v, want ErrNoDevice", err)
	}
	if b != nil {
		t.Fatalf("backend = %#v on error, want nil", b)
	}
}
