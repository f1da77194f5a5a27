// Tests of the progress rendering: formats, throttling and line handling.

package hub

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 639 << 20: "639.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatETA(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", 59 * time.Second: "0:59", 61 * time.Second: "1:01", 3*time.Hour + 2*time.Minute + 5*time.Second: "3:02:05", 200 * time.Hour: ">99h", -time.Second: "0:00"} {
		if got := FormatETA(d); got != want {
			t.Errorf("FormatETA(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatProgress(t *testing.T) {
	half := Progress{File: "m.gguf", Done: 50 << 20, Total: 100 << 20, BytesPerSec: 10 << 20}
	for _, tc := range []struct {
		name string
		p    Progress
		bar  bool
		want []string
	}{
		{"bar", half, true, []string{"m.gguf [===============>              ]", "50.0%", "50.0 MiB / 100.0 MiB", "10.0 MiB/s", "ETA 0:05"}},
		{"plain", half, false, []string{"m.gguf  50.0%", "ETA 0:05"}},
		{"done", Progress{File: "m", Done: 10, Total: 10, BytesPerSec: 5}, true, []string{"[==============================]", "100.0%", "done"}},
		{"unknown total", Progress{File: "m", Done: 2048, Total: -1, BytesPerSec: 1024}, false, []string{"m 2.0 KiB 1.0 KiB/s"}},
		{"no rate yet", Progress{File: "m", Done: 0, Total: 10}, false, []string{"ETA --:--"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FormatProgress(tc.p, tc.bar)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not contain %q", got, w)
				}
			}
			if !tc.bar && strings.Contains(got, "[") {
				t.Errorf("plain line %q has a bar", got)
			}
		})
	}
}

func TestProgressPrinter(t *testing.T) {
	now := time.Unix(0, 0)
	step := func(d time.Duration) { now = now.Add(d) }
	for _, tc := range []struct {
		name     string
		terminal bool
		lines    int // newline-terminated lines expected
		redraws  int // carriage returns expected
	}{
		// Reports at 0, 1s, ..., 11s then done: plain prints at 0, 5s, 10s and done.
		{"plain", false, 4, 0},
		{"terminal", true, 1, 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := NewProgressPrinter(&buf, tc.terminal)
			p.now = func() time.Time { return now }
			for i := 0; i < 12; i++ {
				p.Update(Progress{File: "m", Done: int64(i), Total: 100, BytesPerSec: 1})
				step(time.Second)
			}
			p.Update(Progress{File: "m", Done: 100, Total: 100, BytesPerSec: 1})
			p.Finish()
			out := buf.String()
			if n := strings.Count(out, "\n"); n != tc.lines {
				t.Errorf("%d lines, want %d:\n%q", n, tc.lines, out)
			}
			if n := strings.Count(out, "\r"); n != tc.redraws {
				t.Errorf("%d redraws, want %d", n, tc.redraws)
			}
			if !strings.Contains(out, "done") {
				t.Errorf("no final line: %q", out)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file reported as a terminal")
	}
	if tty, err := os.Open("/dev/null"); err == nil { // a character device
		defer tty.Close()
		if !IsTerminal(tty) {
			t.Error("/dev/null (a character device) not reported as one")
		}
	}
}

func TestProgressEvery(t *testing.T) {
	var got []Progress
	f := ProgressEvery(time.Hour, func(p Progress) { got = append(got, p) })
	for i := int64(0); i <= 10; i++ {
		f(Progress{File: "a", Done: i, Total: 10})
	}
	f(Progress{File: "b", Done: 1, Total: 10})
	if len(got) != 3 || got[0].Done != 0 || got[1].Done != 10 || got[2].File != "b" {
		t.Errorf("passed %+v; want a's first and final reports, then b's first", got)
	}
}
