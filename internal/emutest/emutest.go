// Package emutest builds the emulated CUDA device of kernels/emu for tests:
// the kernel sources compiled as host C++ (clang++-16) against the
// execution-model emulation in kernels/emu/emu.h. The kernels tests run its
// self-test program and the CUDA backend's tests drive its server program.
// It is imported by tests only.
package emutest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

// Compiler is the C++ compiler the emulation is written for.
const Compiler = "clang++-16"

var (
	mu    sync.Mutex
	dir   string            // temporary folder of the built programs
	built map[string]string // source name -> program
	errs  map[string]error  // source name -> build error
)

// Build compiles kernels/emu/<src> once per test binary and returns the
// program's path. It skips the test when clang++-16 is not installed.
func Build(t testing.TB, src string) string {
	t.Helper()
	cxx, err := exec.LookPath(Compiler)
	if err != nil {
		t.Skipf("skipping: %s not installed (apt-get install clang-16)", Compiler)
	}
	mu.Lock()
	defer mu.Unlock()
	if built == nil {
		built, errs = map[string]string{}, map[string]error{}
	}
	if bin, ok := built[src]; ok {
		return bin
	}
	if err, ok := errs[src]; ok {
		t.Fatal(err)
	}
	bin, err := compile(cxx, src)
	if err != nil {
		errs[src] = err
		t.Fatal(err)
	}
	built[src] = bin
	return bin
}

func compile(cxx, src string) (string, error) {
	root, err := reftest.RepoRoot()
	if err != nil {
		return "", err
	}
	kdir := filepath.Join(root, "kernels")
	if dir == "" {
		if dir, err = os.MkdirTemp("", "helexa-emu-"); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, strings.TrimSuffix(src, filepath.Ext(src)))
	path := filepath.Join(kdir, "emu", src)
	out, err := exec.Command(cxx, "-std=c++20", "-O2", "-Wall", "-Werror", "-I", kdir, "-o", bin, path).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("emutest: compile %s: %v\n%s", path, err, out)
	}
	return bin, nil
}

// Main runs a package's tests and then removes the built programs; a test
// package that uses Build calls it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// cleanup removes the built programs.
func cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
	}
	dir, built, errs = "", nil, nil
}
