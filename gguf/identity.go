// This file holds what Open does to be safe on files it does not control:
// it refuses anything that is not a regular file before reading a byte (a
// FIFO or device would block or never end), and it records the identity of
// the opened file so that Check can tell a file that shrank or was rewritten
// in place under a live memory mapping. A file replaced by rename keeps the
// old inode mapped, and the loaded copy stays valid until Close.

package gguf

import (
	"errors"
	"fmt"
	"os"
	"time"
)

var (
	// ErrNotRegular marks a path that is not a regular file (a directory,
	// FIFO, socket or device).
	ErrNotRegular = errors.New("gguf: not a regular file")
	// ErrChanged marks an opened file that was truncated or modified in
	// place since Open: its memory mapping no longer holds the data that
	// was parsed.
	ErrChanged = errors.New("gguf: file changed on disk")
)

// stamp is what identifies a version of a file's contents: its size and
// modification time. (The change time would also move when a file is
// replaced by rename, which unlinks the old inode and leaves its data
// intact, so it is not compared.)
type stamp struct {
	size  int64
	mtime time.Time
}

func stampOf(fi os.FileInfo) stamp {
	return stamp{size: fi.Size(), mtime: fi.ModTime()}
}

// openRegular opens path for reading without blocking (a FIFO with no
// writer would block a plain open forever) and refuses anything but a
// regular file.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	fh, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("gguf: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, nil, fmt.Errorf("gguf: %w", err)
	}
	if !st.Mode().IsRegular() {
		fh.Close()
		return nil, nil, fmt.Errorf("%w: %s (%s)", ErrNotRegular, path, st.Mode().Type())
	}
	return fh, st, nil
}

// Check reports whether the file behind an opened File still holds what
// Open parsed: an error wrapping ErrChanged when it shrank or was modified
// in place, nil otherwise (also for a File made by Read, which has no file
// to check, or one already closed). It costs one fstat and is safe to call
// concurrently with Close.
func (f *File) Check() error {
	f.fhMu.Lock()
	defer f.fhMu.Unlock()
	if f.fh == nil {
		return nil
	}
	st, err := f.fh.Stat()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrChanged, err)
	}
	now := stampOf(st)
	switch {
	case now.size < f.opened.size:
		return fmt.Errorf("%w: %s shrank from %d to %d bytes", ErrChanged, f.fh.Name(), f.opened.size, now.size)
	case now != f.opened:
		return fmt.Errorf("%w: %s was modified in place (replace model files by renaming a new file over them)", ErrChanged, f.fh.Name())
	}
	return nil
}
