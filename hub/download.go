// This file downloads one blob: into blobs/{etag}.incomplete, resuming with
// a Range request after a cut or stalled connection, retrying with backoff,
// hashing as it goes, and publishing the blob by an atomic rename only once
// its sha256 (or, for small non-LFS files, git blob sha1) matches the etag.
// Nothing named like a finished blob or snapshot exists before that.

package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// copyBufSize is the read size of a transfer: large enough to keep syscalls
// few on fast links, small enough to report progress smoothly.
const copyBufSize = 1 << 20

// incompleteSuffix marks a blob still being written (huggingface_hub's name).
const incompleteSuffix = ".incomplete"

// partial is a blob being written: the file, how many bytes of it are
// trusted, and the running hash of exactly those bytes.
type partial struct {
	f       *os.File
	have    int64
	h       hash.Hash // sha256 of f[:have]; nil for a git sha1 etag, hashed at the end
	resumed bool      // f[:have] holds bytes from an earlier transfer
}

// reset empties the partial file to start over.
func (p *partial) reset() error {
	if err := p.f.Truncate(0); err != nil {
		return err
	}
	p.have, p.resumed = 0, false
	if p.h != nil {
		p.h.Reset()
	}
	return nil
}

// download fetches m's bytes into blob.
func (c *Client) download(ctx context.Context, file string, m meta, blob string) error {
	tmp := blob + incompleteSuffix
	err := c.downloadOnce(ctx, file, m, tmp, blob)
	if err == errRestart {
		// The resumed bytes were bad (a mismatch after resuming): start
		// from nothing, once.
		err = c.downloadOnce(ctx, file, m, tmp, blob)
	}
	if err == errRestart {
		err = errorOf(ErrChecksum, "hub: %s: checksum mismatch: the downloaded bytes do not hash to %s", file, m.etag)
	}
	return err
}

// errRestart asks download to start over after a mismatch on resumed bytes.
var errRestart = errors.New("hub: restart download")

func (c *Client) downloadOnce(ctx context.Context, file string, m meta, tmp, blob string) error {
	if err := os.MkdirAll(filepath.Dir(tmp), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer f.Close()
	p := &partial{f: f}
	if len(m.etag) == 64 {
		p.h = sha256.New()
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	p.have = fi.Size()
	if m.size >= 0 && p.have > m.size {
		if err := p.reset(); err != nil {
			return err
		}
	}
	p.resumed = p.have > 0
	if p.resumed && p.h != nil {
		if _, err := io.Copy(p.h, io.NewSectionReader(f, 0, p.have)); err != nil {
			return fmt.Errorf("hub: hashing %s: %w", tmp, err)
		}
	}

	pr := c.newTracker(file, m.size, p.have)
	err = c.retry(ctx, c.o.Retries, func() error { return c.transfer(ctx, p, m, pr) })
	if err != nil {
		if errors.Is(err, ErrChecksum) || p.have == 0 {
			// Bad bytes go; so does an empty file. Anything else stays
			// as .incomplete for the next try to resume.
			f.Close()
			os.Remove(tmp)
		}
		return fmt.Errorf("hub: downloading %s: %w", file, err)
	}
	pr.update(p.have, true)

	sum, err := p.sum(m.etag)
	if err != nil {
		return err
	}
	if sum != m.etag || (m.size >= 0 && p.have != m.size) {
		f.Close()
		os.Remove(tmp)
		if p.resumed {
			return errRestart
		}
		return errorOf(ErrChecksum, "hub: %s: checksum mismatch: %d bytes hash to %s, the hub announced %s", file, p.have, sum, m.etag)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if err := os.Rename(tmp, blob); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}

// sum returns the hash of the partial file in the etag's kind: sha256 of the
// content, or git's blob sha1 (sha1 of "blob {size}\x00" + content).
func (p *partial) sum(etag string) (string, error) {
	if p.h != nil {
		return hex.EncodeToString(p.h.Sum(nil)), nil
	}
	h := sha1.New()
	h.Write([]byte("blob " + strconv.FormatInt(p.have, 10) + "\x00"))
	if _, err := io.Copy(h, io.NewSectionReader(p.f, 0, p.have)); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// transfer makes one GET for the bytes not yet on disk and appends them.
func (c *Client) transfer(ctx context.Context, p *partial, m meta, pr *tracker) error {
	if m.size >= 0 && p.have == m.size {
		return nil
	}
	tctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(c.o.StallTimeout, func() { cancel(errStalled) })
	defer watchdog.Stop()

	req, err := c.newRequest(tctx, http.MethodGet, m.location)
	if err != nil {
		return err
	}
	if p.have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", p.have))
	}
	resp, err := c.get.Do(req)
	if err != nil {
		return stallCause(tctx, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		if start, ok := rangeStart(resp.Header.Get("Content-Range")); !ok || start != p.have {
			// Not the range we asked for: start over.
			if err := p.reset(); err != nil {
				return err
			}
			return fmt.Errorf("%w: unexpected Content-Range %q", io.ErrUnexpectedEOF, resp.Header.Get("Content-Range"))
		}
	case http.StatusOK:
		if p.have > 0 { // the server ignored Range
			if err := p.reset(); err != nil {
				return err
			}
		}
	case http.StatusRequestedRangeNotSatisfiable:
		if m.size < 0 && p.have > 0 {
			return nil // everything is there; the hash decides
		}
		if err := p.reset(); err != nil {
			return err
		}
		return fmt.Errorf("%w: range not satisfiable", io.ErrUnexpectedEOF)
	default:
		return newStatusError(resp)
	}
	if _, err := p.f.Seek(p.have, io.SeekStart); err != nil {
		return err
	}
	buf := make([]byte, copyBufSize)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			watchdog.Reset(c.o.StallTimeout)
			if m.size >= 0 && p.have+int64(n) > m.size {
				return errorOf(ErrChecksum, "checksum mismatch: the server sent more than the announced %d bytes", m.size)
			}
			if _, err := p.f.Write(buf[:n]); err != nil {
				return err
			}
			if p.h != nil {
				p.h.Write(buf[:n])
			}
			p.have += int64(n)
			pr.update(p.have, false)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			if m.size >= 0 && p.have < m.size {
				return fmt.Errorf("%w: got %d of %d bytes", io.ErrUnexpectedEOF, p.have, m.size)
			}
			return nil
		}
		if rerr != nil {
			return stallCause(tctx, rerr)
		}
	}
}

// stallCause turns the error of a request the watchdog cancelled into
// errStalled, so it is retried rather than taken for the caller's cancel.
func stallCause(tctx context.Context, err error) error {
	if context.Cause(tctx) == errStalled {
		return fmt.Errorf("%w: %w", errStalled, err)
	}
	return err
}

// rangeStart parses the first byte position of "bytes start-end/total".
func rangeStart(cr string) (int64, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(cr), "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(first, 10, 64)
	return n, err == nil && n >= 0
}

// tracker throttles Progress calls for one file and computes the rate.
type tracker struct {
	fn       func(Progress)
	interval time.Duration
	file     string
	total    int64
	start    time.Time
	base     int64 // bytes already on disk when this transfer began
	last     time.Time
}

func (c *Client) newTracker(file string, total, have int64) *tracker {
	now := time.Now()
	return &tracker{fn: c.o.Progress, interval: c.o.ProgressInterval, file: file, total: total, start: now, base: have}
}

// update reports done bytes, at most every interval unless final.
func (t *tracker) update(done int64, final bool) {
	if t.fn == nil {
		return
	}
	now := time.Now()
	if done < t.base { // the partial file was discarded: measure afresh
		t.base, t.start = done, now
	}
	if !final && now.Sub(t.last) < t.interval {
		return
	}
	t.last = now
	var rate float64
	if el := now.Sub(t.start).Seconds(); el > 0 {
		rate = float64(done-t.base) / el
	}
	t.fn(Progress{File: t.file, Done: done, Total: t.total, BytesPerSec: rate})
}
