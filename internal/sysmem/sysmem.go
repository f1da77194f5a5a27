// Package sysmem reads how much memory the process may use: the host's
// total and available memory from /proc/meminfo, narrowed by the memory
// limit of the process's control group (cgroup v2 memory.max, or v1
// memory.limit_in_bytes) and what that group already uses, page cache the
// kernel can reclaim counted as free. Model loads check their need against
// it before allocating, so that a request cannot make the process run out
// of memory.
package sysmem

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Info is the memory the process may use, in bytes; 0 means unknown.
type Info struct {
	// Total is the host's memory or the control group's limit, whichever
	// is smaller.
	Total int64
	// Available is what can still be allocated without swapping or
	// hitting the group's limit.
	Available int64
}

// Read returns the memory of this host and process.
func Read() Info { return ReadFrom("/proc", "/sys/fs/cgroup") }

// ReadFrom reads Info from a proc and a cgroup file system mounted at the
// given roots (tests point them at fakes).
func ReadFrom(procRoot, cgroupRoot string) Info {
	mi := meminfo(filepath.Join(procRoot, "meminfo"))
	info := Info{Total: mi["MemTotal"], Available: mi["MemAvailable"]}
	limit, used, reclaimable := cgroupLimit(filepath.Join(procRoot, "self", "cgroup"), cgroupRoot)
	if limit > 0 {
		info.Total = minKnown(info.Total, limit)
		info.Available = minKnown(info.Available, max(limit-used+reclaimable, 0))
	}
	return info
}

// minKnown is the smaller of a and b where 0 (unknown) loses to anything.
func minKnown(a, b int64) int64 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// meminfo parses /proc/meminfo into bytes per key.
func meminfo(path string) map[string]int64 {
	out := map[string]int64{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		out[key] = n
	}
	return out
}

// noLimit is at or above what cgroup v1 reports for "unlimited"
// (PAGE_COUNTER_MAX rounded to pages, 0x7FFFFFFFFFFFF000).
const noLimit = 1 << 62

// cgroupLimit returns the tightest memory limit of the process's control
// group and its ancestors, with the usage and reclaimable file cache of the
// group that sets it; limit 0 means none.
func cgroupLimit(selfCgroup, root string) (limit, used, reclaimable int64) {
	b, err := os.ReadFile(selfCgroup)
	if err != nil {
		return 0, 0, 0
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "": // v2
			l, u, r := walk(filepath.Join(root), parts[2], "memory.max", "memory.current", "inactive_file")
			if l > 0 && (limit == 0 || l < limit) {
				limit, used, reclaimable = l, u, r
			}
		case slices.Contains(strings.Split(parts[1], ","), "memory"): // v1
			l, u, r := walk(filepath.Join(root, "memory"), parts[2], "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
			if l > 0 && (limit == 0 || l < limit) {
				limit, used, reclaimable = l, u, r
			}
		}
	}
	return limit, used, reclaimable
}

// walk looks for the tightest limit from the group's directory up to the
// root of the hierarchy. In a container the group's own path is often not
// visible (the root is the group); then the root alone is read.
func walk(root, group, limitFile, usageFile, statKey string) (limit, used, reclaimable int64) {
	dir := filepath.Join(root, filepath.Clean("/"+group))
	if _, err := os.Stat(dir); err != nil {
		dir = root
	}
	for {
		if l := readInt(filepath.Join(dir, limitFile)); l > 0 && l < noLimit && (limit == 0 || l < limit) {
			limit = l
			used = readInt(filepath.Join(dir, usageFile))
			reclaimable = statValue(filepath.Join(dir, "memory.stat"), statKey)
		}
		if dir == root || len(dir) <= len(root) {
			return limit, used, reclaimable
		}
		dir = filepath.Dir(dir)
	}
}

// readInt reads a file holding one integer ("max" and errors read as 0).
func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// statValue reads one key of a memory.stat file.
func statValue(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}
