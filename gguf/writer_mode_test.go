// This file tests the permissions of the files WriteFile writes: a new file
// is readable by other users (its readers, a model server for one, often
// run under another account), and a rewritten file keeps the mode it had.

package gguf

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWriteFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("gguf: Unix permission bits do not apply on windows")
	}
	write := func(path string) {
		t.Helper()
		w := NewWriter()
		w.AddKV("general.architecture", "test")
		w.AddTensor("t", TypeF32, []int64{2}, make([]byte, 8))
		if err := w.WriteFile(path); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		existing os.FileMode // 0: path does not exist before the write
		want     os.FileMode
	}{
		{"new file readable by all", 0, 0o644},
		{"replaced owner-only file stays owner-only", 0o600, 0o600},
		{"replaced group-writable file keeps its mode", 0o664, 0o664},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.gguf")
			if tc.existing != 0 {
				if err := os.WriteFile(path, []byte("old"), tc.existing); err != nil {
					t.Fatal(err)
				}
				// os.WriteFile's mode is subject to the umask; set it exactly.
				if err := os.Chmod(path, tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			write(path)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tc.want {
				t.Errorf("mode %v, want %v", got, tc.want)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatalf("written file does not open: %v", err)
			}
			f.Close()
		})
	}
}
