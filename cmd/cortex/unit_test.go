// Test of the systemd unit data/cortex.service.

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helexa/helexa/cortex"
)

// TestSystemdUnit checks data/cortex.service: a notify unit whose stop
// timeout leaves room for the default drain, verified by systemd-analyze
// (with ExecStart pointed at this test binary) where it is installed.
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "data", "cortex.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(raw)
	for _, want := range []string{"Type=notify", "KillSignal=SIGTERM", "ExecStart=/usr/bin/cortex serve --config /etc/cortex/cortex.toml"} {
		if !strings.Contains(unit, "\n"+want+"\n") {
			t.Errorf("unit lacks %q", want)
		}
	}
	m := regexp.MustCompile(`\nTimeoutStopSec=(\d+)\n`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatal("unit has no TimeoutStopSec")
	}
	stop, _ := time.ParseDuration(m[1] + "s")
	if stop <= cortex.DefaultShutdownTimeout {
		t.Errorf("TimeoutStopSec=%s does not leave room for the %s drain", stop, cortex.DefaultShutdownTimeout)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("skipping the systemd-analyze check: not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cortex.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/bin/cortex", self)), 0o644)
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
