// This file reads the inode's change time on Linux, for File.Check.

package gguf

import (
	"os"
	"syscall"
	"time"
)

// changeTime is the inode's change time (ctime), which a write in place
// updates even when the modification time is set back.
func changeTime(fi os.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)) // int32 fields on 32-bit platforms
	}
	return time.Time{}
}
