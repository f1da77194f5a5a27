// Tests of Open's refusals and of File.Check: a FIFO is refused without
// blocking, a file that shrinks or is rewritten in place is reported, a
// file replaced by rename is not, and Check after Close is quiet.

package gguf

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestOpenRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.gguf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, p := range []string{fifo, dir} {
		done := make(chan error, 1)
		go func() { _, err := Open(p); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) {
				t.Errorf("Open(%s) = %v, want ErrNotRegular", p, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Open(%s) blocked", p)
		}
	}
}

func TestFileCheck(t *testing.T) {
	valid := validFile()
	dir := t.TempDir()
	open := func(name string) (*File, string) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, valid, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if err := f.Check(); err != nil {
			t.Fatalf("fresh file: %v", err)
		}
		return f, p
	}
	time.Sleep(10 * time.Millisecond) // later modification times than the writes above
	shrunk, p := open("shrunk.gguf")
	time.Sleep(10 * time.Millisecond)
	os.Truncate(p, int64(len(valid)/2))
	if err := shrunk.Check(); !errors.Is(err, ErrChanged) {
		t.Errorf("shrunk: %v", err)
	}
	inPlace, p := open("inplace.gguf")
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(p, valid, 0o644)
	if err := inPlace.Check(); !errors.Is(err, ErrChanged) {
		t.Errorf("rewritten in place: %v", err)
	}
	renamed, p := open("renamed.gguf")
	os.WriteFile(p+".tmp", valid, 0o644)
	os.Rename(p+".tmp", p)
	if err := renamed.Check(); err != nil {
		t.Errorf("replaced by rename: %v", err)
	}
	renamed.Close()
	if err := renamed.Check(); err != nil {
		t.Errorf("after Close: %v", err)
	}
}
