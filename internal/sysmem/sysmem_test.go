// Tests of the memory reading against fake proc and cgroup trees: the host
// alone, a cgroup v2 limit (with reclaimable cache counted free), a v1
// limit, and "unlimited" values.

package sysmem

import (
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadFrom(t *testing.T) {
	const meminfo = "MemTotal:       16000000 kB\nMemFree:  1 kB\nMemAvailable:    8000000 kB\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  Info
	}{
		{"host only", map[string]string{"proc/self/cgroup": "0::/\n"},
			Info{Total: 16000000 << 10, Available: 8000000 << 10}},
		{"cgroup v2 limit", map[string]string{"proc/self/cgroup": "0::/svc\n",
			"cg/svc/memory.max": "4294967296\n", "cg/svc/memory.current": "3221225472\n", "cg/svc/memory.stat": "anon 1\ninactive_file 536870912\n"},
			Info{Total: 4 << 30, Available: 1<<30 + 512<<20}},
		{"cgroup v2 max", map[string]string{"proc/self/cgroup": "0::/svc\n", "cg/svc/memory.max": "max\n"},
			Info{Total: 16000000 << 10, Available: 8000000 << 10}},
		{"cgroup v1 limit, group path hidden", map[string]string{"proc/self/cgroup": "4:memory:/docker/abc\n",
			"cg/memory/memory.limit_in_bytes": "2147483648\n", "cg/memory/memory.usage_in_bytes": "1073741824\n", "cg/memory/memory.stat": "total_inactive_file 0\n"},
			Info{Total: 2 << 30, Available: 1 << 30}},
		{"cgroup v1 unlimited", map[string]string{"proc/self/cgroup": "4:memory:/\n", "cg/memory/memory.limit_in_bytes": "9223372036854771712\n"},
			Info{Total: 16000000 << 10, Available: 8000000 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, filepath.Join(root, "proc/meminfo"), meminfo)
			for p, c := range tc.files {
				write(t, filepath.Join(root, p), c)
			}
			if got := ReadFrom(filepath.Join(root, "proc"), filepath.Join(root, "cg")); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := Read(); got.Total <= 0 || got.Available <= 0 || got.Available > got.Total {
		t.Errorf("this host: %+v", got)
	}
}
