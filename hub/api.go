// This file speaks the hub's HTTP API: the HEAD on a file's resolve URL that
// tells which commit a revision is at and which blob (hash, size, download
// location) a file is, read the way huggingface_hub reads it; and the
// repository listing used to find the file that carries a quantization.

package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Hub response headers (huggingface_hub constants.py).
const (
	headerRepoCommit = "X-Repo-Commit"
	headerLinkedEtag = "X-Linked-Etag"
	headerLinkedSize = "X-Linked-Size"
)

// Bounds on what we accept from a server: listings are JSON of a few hundred
// kilobytes for the largest repositories; maxRelativeRedirects is
// huggingface_hub's habit of following only the hub's own (renamed-repo)
// redirects on a HEAD; maxListPages bounds tree pagination.
const (
	maxListingBytes      = 32 << 20
	maxRelativeRedirects = 5
	maxListPages         = 100
)

// meta is what the hub says about one file at one revision.
type meta struct {
	commit   string   // X-Repo-Commit: the commit the revision resolved to
	etag     string   // X-Linked-Etag or ETag: sha256 for LFS files, git blob sha1 otherwise
	size     int64    // X-Linked-Size or Content-Length; -1 if unknown
	location *url.URL // where to GET the bytes: the redirect target or the resolve URL
}

// escapePath escapes each segment of a '/'-separated path for a URL.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// apiURL joins an escaped path to the endpoint.
func (c *Client) apiURL(escaped string) (*url.URL, error) {
	u, err := url.Parse(c.endpoint.String() + "/" + escaped)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	return u, nil
}

// resolveURL is {endpoint}/{repo}/resolve/{revision}/{file}; the revision is
// escaped whole (refs/pr/1 -> refs%2Fpr%2F1) as huggingface_hub does.
func (c *Client) resolveURL(repo, rev, file string) (*url.URL, error) {
	return c.apiURL(repo + "/resolve/" + url.PathEscape(rev) + "/" + escapePath(file))
}

// metadata asks the hub about one file with a HEAD on its resolve URL,
// retrying transient failures.
func (c *Client) metadata(ctx context.Context, repo, rev, file string) (meta, error) {
	var m meta
	err := c.retry(ctx, c.apiRetries(), func() error {
		var err error
		m, err = c.headOnce(ctx, repo, rev, file)
		return err
	})
	if err != nil {
		return meta{}, fmt.Errorf("hub: %s/%s@%s: %w", repo, file, rev, err)
	}
	return m, nil
}

func (c *Client) headOnce(ctx context.Context, repo, rev, file string) (meta, error) {
	u, err := c.resolveURL(repo, rev, file)
	if err != nil {
		return meta{}, err
	}
	for hops := 0; ; hops++ {
		req, err := c.newRequest(ctx, http.MethodHead, u)
		if err != nil {
			return meta{}, err
		}
		resp, err := c.head.Do(req)
		if err != nil {
			return meta{}, err
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			raw := resp.Header.Get("Location")
			rel, err := url.Parse(raw)
			if raw == "" || err != nil {
				return meta{}, fmt.Errorf("%s: HTTP %d without a usable Location", redactURL(u), resp.StatusCode)
			}
			loc := u.ResolveReference(rel)
			if rel.Host == "" && rel.Scheme == "" {
				// A relative redirect is the hub's own (a renamed
				// repository): follow it, like huggingface_hub.
				if hops >= maxRelativeRedirects {
					return meta{}, fmt.Errorf("%s: more than %d redirects", redactURL(u), maxRelativeRedirects)
				}
				u = loc
				continue
			}
			if err := c.checkTarget(loc); err != nil {
				return meta{}, err
			}
			return parseMeta(resp.Header, rev, loc)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return parseMeta(resp.Header, rev, u)
		default:
			return meta{}, newStatusError(resp)
		}
	}
}

// parseMeta reads and validates the metadata headers: every value becomes a
// path in the cache, so a commit must be 40 hex digits and an etag a sha1 or
// sha256 in hex.
func parseMeta(h http.Header, rev string, loc *url.URL) (meta, error) {
	m := meta{location: loc, size: -1}
	m.commit = strings.ToLower(strings.TrimSpace(h.Get(headerRepoCommit)))
	if m.commit == "" && isCommit(rev) {
		m.commit = rev
	}
	if !isCommit(m.commit) {
		return meta{}, errorOf(ErrBadResponse, "the server sent no valid %s (got %q); is the endpoint a Hugging Face hub?", headerRepoCommit, clip(m.commit, maxHeaderInMessage))
	}
	etag := h.Get(headerLinkedEtag)
	if etag == "" {
		etag = h.Get("ETag")
	}
	m.etag = normalizeEtag(etag)
	if !isHash(m.etag) {
		return meta{}, errorOf(ErrBadResponse, "the server sent no usable etag (got %q): cannot verify the download", clip(etag, maxHeaderInMessage))
	}
	size := h.Get(headerLinkedSize)
	if size == "" {
		size = h.Get("Content-Length")
	}
	if size != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(size), 10, 64)
		if err != nil || n < 0 {
			return meta{}, errorOf(ErrBadResponse, "the server sent a bad file size %q", clip(size, maxHeaderInMessage))
		}
		m.size = n
	}
	return m, nil
}

// normalizeEtag strips a weak-validator prefix and quotes, as huggingface_hub
// does, and lower-cases the hash.
func normalizeEtag(e string) string {
	e = strings.TrimSpace(e)
	e = strings.TrimPrefix(e, "W/")
	e = strings.Trim(e, `"`)
	return strings.ToLower(e)
}

// clip shortens a value a server sent to at most n bytes (and "...") for an
// error message, so a hostile header cannot make the message huge.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// maxHeaderInMessage is how much of a metadata header an error quotes: a
// hash is 64 bytes, so this shows any real value whole.
const maxHeaderInMessage = 80

// listing is a repository's files at a revision.
type listing struct {
	commit string // the commit the listing came from, "" if the API did not say
	files  []string
}

// list returns the files of a repository: from the model-info API's
// siblings ({endpoint}/api/models/{repo}[/revision/{rev}]), or where that
// carries none, from the recursive tree API.
func (c *Client) list(ctx context.Context, repo, rev string) (listing, error) {
	path := "api/models/" + repo
	if rev != DefaultRevision {
		path += "/revision/" + url.PathEscape(rev)
	}
	var info struct {
		SHA      string `json:"sha"`
		Siblings *[]struct {
			RFilename string `json:"rfilename"`
		} `json:"siblings"`
	}
	if _, err := c.getJSON(ctx, path, &info); err != nil {
		return listing{}, err
	}
	var l listing
	if sha := strings.ToLower(info.SHA); isCommit(sha) {
		l.commit = sha
	}
	if info.Siblings != nil {
		for _, s := range *info.Siblings {
			l.files = append(l.files, s.RFilename)
		}
		return l, nil
	}
	next := "api/models/" + repo + "/tree/" + url.PathEscape(rev) + "?recursive=true"
	for page := 0; next != ""; page++ {
		if page >= maxListPages {
			return listing{}, fmt.Errorf("hub: %s: more than %d pages of files", repo, maxListPages)
		}
		var entries []struct {
			Type string `json:"type"`
			Path string `json:"path"`
		}
		link, err := c.getJSON(ctx, next, &entries)
		if err != nil {
			return listing{}, err
		}
		for _, e := range entries {
			if e.Type == "file" {
				l.files = append(l.files, e.Path)
			}
		}
		next = ""
		if u := nextLink(link); u != nil && c.sameOrigin(u) {
			next = strings.TrimPrefix(u.RequestURI(), c.endpoint.Path+"/")
		}
	}
	return l, nil
}

// getJSON GETs an API path under the endpoint and decodes the JSON answer
// into v, retrying transient failures. It returns the Link header.
func (c *Client) getJSON(ctx context.Context, path string, v any) (string, error) {
	u, err := c.apiURL(path)
	if err != nil {
		return "", err
	}
	var link string
	err = c.retry(ctx, c.apiRetries(), func() error {
		req, err := c.newRequest(ctx, http.MethodGet, u)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := c.get.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return newStatusError(resp)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxListingBytes+1))
		if err != nil {
			return err
		}
		if len(body) > maxListingBytes {
			return fmt.Errorf("%s: answer larger than %d bytes", redactURL(u), maxListingBytes)
		}
		if err := json.Unmarshal(body, v); err != nil {
			return fmt.Errorf("%s: %w", redactURL(u), err)
		}
		link = resp.Header.Get("Link")
		return nil
	})
	return link, err
}

// nextLink returns the rel="next" target of a Link header, or nil.
func nextLink(h string) *url.URL {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		target = strings.Trim(strings.TrimSpace(target), "<>")
		if u, err := url.Parse(target); err == nil && u.IsAbs() {
			return u
		}
	}
	return nil
}

// maxAPIRetries bounds the retries of metadata and listing requests: they
// are cheap to redo later, and an unreachable hub should fall back to the
// cache in seconds, not after the full download backoff.
const maxAPIRetries = 2

func (c *Client) apiRetries() int { return min(c.o.Retries, maxAPIRetries) }

// retry runs f until it succeeds, fails for good, or retries retries are
// spent, waiting RetryBackoff, then twice as long each time (at most
// maxRetryBackoff), honouring ctx.
func (c *Client) retry(ctx context.Context, retries int, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil || !retryable(ctx, err) || attempt >= retries {
			return err
		}
		if werr := sleep(ctx, backoff(c.o.RetryBackoff, attempt)); werr != nil {
			return fmt.Errorf("%w (after: %w)", werr, err)
		}
	}
}

// backoff is base * 2^attempt, capped.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 0; i < attempt && d < maxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, maxRetryBackoff)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errStalled reports a transfer that received nothing for StallTimeout.
var errStalled = errors.New("transfer stalled")

// retryable reports whether err is transient: a network failure, a cut or
// stalled transfer, or a 429/5xx; never a cancelled ctx, a policy refusal
// or a checksum mismatch.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, ErrInsecureRedirect) || errors.Is(err, ErrChecksum) || errors.Is(err, ErrInvalidRef) || errors.Is(err, ErrBadResponse) {
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.retryable()
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errStalled) || isNetworkError(err)
}
