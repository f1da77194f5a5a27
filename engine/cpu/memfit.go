// This file lets the CPU backend refuse a model that would not fit in the
// memory the host, or the process's control group, has available, before
// anything is allocated (engine.CheckFit asks through engine.MemoryChecker).

package cpu

import (
	"fmt"

	"github.com/helexa/helexa/internal/sysmem"
)

// CanFit returns nil when n more bytes fit in the memory available now
// (MemAvailable, narrowed by the cgroup limit); unknown memory always fits.
func (b *Backend) CanFit(n int64) error {
	m := sysmem.Read()
	if m.Available > 0 && n > m.Available {
		return fmt.Errorf("needs %d MiB, %d MiB of host memory available (of %d MiB)", n>>20, m.Available>>20, m.Total>>20)
	}
	return nil
}
