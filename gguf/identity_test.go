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

// TestOpenRead checks that a file opened without mapping parses as Open's
// does, gives each tensor's bytes in memory of its own, and is checked
// for changes the same way.
func TestOpenRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(p, validFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	mapped, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer mapped.Close()
	read, err := OpenRead(p)
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	if read.Mapped() || len(read.Tensors) != len(mapped.Tensors) || read.DataOffset != mapped.DataOffset {
		t.Fatalf("OpenRead: mapped %v, %d tensors at %d; Open: %d at %d", read.Mapped(), len(read.Tensors), read.DataOffset, len(mapped.Tensors), mapped.DataOffset)
	}
	for i := range read.Tensors {
		a, err1 := read.TensorData(&read.Tensors[i])
		b, err2 := mapped.TensorData(&mapped.Tensors[i])
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Errorf("tensor %s: %v %v, bytes differ: %v", read.Tensors[i].Name, err1, err2, string(a) != string(b))
		}
	}
	if err := read.Check(); err != nil {
		t.Errorf("fresh file: %v", err)
	}
	time.Sleep(10 * time.Millisecond)
	os.Truncate(p, 8)
	if err := read.Check(); !errors.Is(err, ErrChanged) {
		t.Errorf("shrunk: %v", err)
	}
	if _, err := OpenRead(filepath.Join(t.TempDir(), "none.gguf")); err == nil {
		t.Error("a missing file opened")
	}
}
