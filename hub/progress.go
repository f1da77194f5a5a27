// This file renders download progress for people: a redrawn bar with bytes,
// rate and ETA on a terminal, and plain periodic lines (for logs and pipes)
// otherwise. It writes only to the writer it is given.

package hub

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Redraw and report intervals: a terminal bar redraws often enough to look
// live; plain lines are for logs, where one every few seconds is plenty.
const (
	barInterval   = 100 * time.Millisecond
	plainInterval = 5 * time.Second
	barWidth      = 30
)

// IsTerminal reports whether f is a character device (a terminal), the test
// `neuron pull` uses to choose between a bar and plain lines.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// ProgressPrinter turns Progress reports into output. Its Update method can
// be used as Options.Progress. It is safe for concurrent use.
type ProgressPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	now      func() time.Time
	file     string    // file of the last report
	last     time.Time // when the last line or redraw was written
	open     bool      // a bar line is drawn without its newline yet
}

// NewProgressPrinter returns a printer writing to w: a redrawn bar if
// terminal, else one plain line every few seconds and one when a file is done.
func NewProgressPrinter(w io.Writer, terminal bool) *ProgressPrinter {
	return &ProgressPrinter{w: w, terminal: terminal, now: time.Now}
}

// Update reports progress.
func (p *ProgressPrinter) Update(pr Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	done := pr.Total >= 0 && pr.Done >= pr.Total
	if pr.File != p.file {
		p.endLine()
		p.file = pr.File
		p.last = time.Time{}
	}
	interval := plainInterval
	if p.terminal {
		interval = barInterval
	}
	if !done && !p.last.IsZero() && now.Sub(p.last) < interval {
		return
	}
	p.last = now
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s\x1b[K", FormatProgress(pr, true))
		p.open = true
		if done {
			p.endLine()
		}
		return
	}
	fmt.Fprintln(p.w, FormatProgress(pr, false))
}

// Finish ends a bar left open (after an error, say).
func (p *ProgressPrinter) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLine()
}

func (p *ProgressPrinter) endLine() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

// FormatProgress formats one report: the file, a bar (if bar) or percentage,
// bytes done of total, rate and ETA. Unknown totals show bytes and rate only.
func FormatProgress(pr Progress, bar bool) string {
	var b strings.Builder
	b.WriteString(pr.File)
	if pr.Total > 0 {
		frac := float64(pr.Done) / float64(pr.Total)
		frac = min(max(frac, 0), 1)
		if bar {
			n := int(frac * barWidth)
			b.WriteString(" [")
			b.WriteString(strings.Repeat("=", n))
			if n < barWidth {
				b.WriteString(">")
				b.WriteString(strings.Repeat(" ", barWidth-n-1))
			}
			b.WriteString("]")
		}
		fmt.Fprintf(&b, " %5.1f%% %s / %s", frac*100, FormatBytes(pr.Done), FormatBytes(pr.Total))
	} else {
		fmt.Fprintf(&b, " %s", FormatBytes(pr.Done))
	}
	fmt.Fprintf(&b, " %s/s", FormatBytes(int64(pr.BytesPerSec)))
	if pr.Total > 0 {
		switch {
		case pr.Done >= pr.Total:
			b.WriteString(" done")
		case pr.BytesPerSec > 0:
			eta := time.Duration(float64(pr.Total-pr.Done) / pr.BytesPerSec * float64(time.Second))
			b.WriteString(" ETA " + FormatETA(eta))
		default:
			b.WriteString(" ETA --:--")
		}
	}
	return b.String()
}

// FormatBytes formats n in binary units with one decimal: "512 B", "1.5 MiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	for v /= unit; v >= unit && i < len(units)-1; i++ {
		v /= unit
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// FormatETA formats a remaining time as m:ss or h:mm:ss.
func FormatETA(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 100*3600 {
		return ">99h"
	}
	h, m, sec := s/3600, s/60%60, s%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

// ProgressEvery returns a Progress callback that passes a report on to fn at
// most once per interval for each file, and always the one that completes
// it: the pace for log lines (the daemon's "downloading ..." messages).
func ProgressEvery(interval time.Duration, fn func(Progress)) func(Progress) {
	var mu sync.Mutex
	last := map[string]time.Time{}
	return func(p Progress) {
		mu.Lock()
		now := time.Now()
		done := p.Total >= 0 && p.Done >= p.Total
		t, seen := last[p.File]
		pass := done || !seen || now.Sub(t) >= interval
		if pass {
			last[p.File] = now
		}
		if done {
			delete(last, p.File)
		}
		mu.Unlock()
		if pass {
			fn(p)
		}
	}
}
