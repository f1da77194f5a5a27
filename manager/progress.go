// This file logs hub download progress for the daemon's journal.

package manager

import (
	"log/slog"
	"time"

	"github.com/helexa/helexa/hub"
)

// progressEvery is how often a download logs its progress per file: often
// enough to show life in the journal, rarely enough not to flood it.
const progressEvery = 5 * time.Second

// progressLogger returns a hub progress callback that logs each file's
// download at most every progressEvery (hub.ProgressEvery sets the pace)
// and when it completes.
func progressLogger(log *slog.Logger) func(hub.Progress) {
	return hub.ProgressEvery(progressEvery, func(p hub.Progress) {
		done := p.Total > 0 && p.Done >= p.Total
		attrs := []any{"file", p.File, "done_bytes", p.Done, "total_bytes", p.Total,
			"mb_per_s", float64(int64(p.BytesPerSec/1e4)) / 100}
		if p.Total > 0 {
			attrs = append(attrs, "percent", float64(p.Done*1000/p.Total)/10)
			if p.BytesPerSec > 0 && !done {
				attrs = append(attrs, "eta", (time.Duration(float64(p.Total-p.Done)/p.BytesPerSec) * time.Second).Round(time.Second).String())
			}
		}
		if done {
			log.Info("download complete", attrs...)
		} else {
			log.Info("downloading", attrs...)
		}
	})
}
