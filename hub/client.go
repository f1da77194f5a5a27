// This file holds the Client: turning a model reference into local files,
// either straight from the cache (offline, or when the hub cannot be
// reached) or by asking the hub which commit and blobs a revision means and
// downloading what is missing.

package hub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Sentinel errors (errors.Is).
var (
	// ErrOffline reports that a reference is not in the cache while offline.
	ErrOffline = errors.New("hub: offline")
	// ErrNotFound reports a missing local file, repository, revision or file
	// on the hub, or no file matching a quantization.
	ErrNotFound = errors.New("hub: not found")
	// ErrUnauthorized reports a 401 or 403 from the hub: a gated or private
	// repository, or a missing or wrong token.
	ErrUnauthorized = errors.New("hub: unauthorized")
	// ErrChecksum reports a download whose sha256 (or git sha1) does not
	// match the hash the hub announced; nothing is kept.
	ErrChecksum = errors.New("hub: checksum mismatch")
	// ErrInsecureRedirect reports a redirect to a plain-http URL outside the
	// endpoint's origin.
	ErrInsecureRedirect = errors.New("hub: insecure redirect")
	// ErrBadResponse reports an answer from the hub we cannot use safely: a
	// missing or malformed commit, etag or size.
	ErrBadResponse = errors.New("hub: bad response")
	// ErrUnavailable reports that the hub could not be reached (or failed
	// with 5xx/429 after the retries) and the cache does not hold the model.
	ErrUnavailable = errors.New("hub: unavailable")
)

// kindError is an error of a sentinel's kind (errors.Is) whose message is its
// own, so that wrapping does not repeat the sentinel's text.
type kindError struct {
	kind  error
	msg   string
	cause error // optional underlying error, also matched by errors.Is/As
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// errorOf formats an error of the given kind.
func errorOf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// userAgent identifies us to the hub.
const userAgent = "helexa-hub/1"

// Client resolves model references against one cache and one hub endpoint.
// It is safe for concurrent use.
type Client struct {
	o        Options
	cache    cache
	endpoint *url.URL
	head     *http.Client // follows no redirects: metadata is read from the first answer
	get      *http.Client // follows redirects under checkRedirect
}

// New returns a Client for o. It fails if the cache directory is unknown or
// the endpoint is not an http(s) URL.
func New(o Options) (*Client, error) {
	if o.CacheDir == "" {
		return nil, errors.New("hub: no cache directory: set HF_HUB_CACHE or HF_HOME")
	}
	root, err := filepath.Abs(o.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("hub: cache directory %q: %w", o.CacheDir, err)
	}
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	ep, err := url.Parse(strings.TrimRight(o.Endpoint, "/"))
	if err != nil || (ep.Scheme != "https" && ep.Scheme != "http") || ep.Host == "" || ep.RawQuery != "" || ep.Fragment != "" {
		return nil, fmt.Errorf("hub: endpoint %q: want an http(s) URL", o.Endpoint)
	}
	if o.Retries == 0 {
		o.Retries = defaultRetries
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = defaultRetryBackoff
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = defaultStallTimeout
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = defaultProgressInterval
	}
	base := o.HTTPClient
	if base == nil {
		base = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: dialTimeout}).DialContext,
			TLSHandshakeTimeout:   tlsHandshakeTimeout,
			ResponseHeaderTimeout: responseHeaderTimeout,
			IdleConnTimeout:       idleConnTimeout,
			ForceAttemptHTTP2:     true,
		}}
	}
	c := &Client{o: o, cache: cache{root: filepath.Clean(root)}, endpoint: ep}
	head := *base
	head.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := *base
	get.CheckRedirect = c.checkRedirect
	c.head, c.get = &head, &get
	return c, nil
}

// Resolve is the one-call form of New(o) and Client.Resolve.
func Resolve(ctx context.Context, ref string, o Options) (string, error) {
	c, err := New(o)
	if err != nil {
		return "", err
	}
	return c.Resolve(ctx, ref)
}

// CacheDir returns the absolute cache root.
func (c *Client) CacheDir() string { return c.cache.root }

// Resolve returns the local path of the GGUF file ref names, downloading it
// into the cache if needed. A ref naming an existing local file returns its
// absolute path untouched. For a split GGUF every part is downloaded into the
// same snapshot directory and the path of the first part
// ("...-00001-of-0000N.gguf") is returned, which is what GGUF loaders open.
// Offline, or when the hub cannot be reached, the cache alone answers.
func (c *Client) Resolve(ctx context.Context, ref string) (string, error) {
	paths, err := c.ResolveFiles(ctx, ref)
	if err != nil {
		return "", err
	}
	return paths[0], nil
}

// ResolveFiles is Resolve returning every file of the model: one path, or
// each part of a split GGUF in order.
func (c *Client) ResolveFiles(ctx context.Context, ref string) ([]string, error) {
	if p, ok, err := localPath(ref); ok || err != nil {
		if err != nil {
			return nil, err
		}
		return []string{p}, nil
	}
	r, err := ParseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("%w; no local file %q exists either", err, ref)
	}
	return c.Fetch(ctx, r)
}

// localPath reports whether ref names a local file or directory (returning
// its absolute path), and returns ErrNotFound for a ref that is plainly a
// file-system path but does not exist.
func localPath(ref string) (string, bool, error) {
	p := ref
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(h, p[2:])
		}
	}
	if _, err := os.Stat(p); err == nil {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", false, fmt.Errorf("hub: %q: %w", ref, err)
		}
		return abs, true, nil
	}
	if filepath.IsAbs(p) || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") || strings.HasPrefix(ref, "~") {
		return "", false, errorOf(ErrNotFound, "hub: local file %q does not exist", ref)
	}
	return "", false, nil
}

// Fetch resolves a parsed reference to the local paths of its files.
func (c *Client) Fetch(ctx context.Context, r Ref) ([]string, error) {
	if c.o.Offline {
		paths, err := c.cache.lookup(r)
		if err != nil {
			if errors.Is(err, errNotCached) || errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w (HF_HUB_OFFLINE): %s is not in the cache %s: %w", ErrOffline, r, c.cache.repoDir(r.Repo), err)
			}
			return nil, err
		}
		return paths, nil
	}
	paths, err := c.fetchOnline(ctx, r)
	if err != nil && unavailable(err) && ctx.Err() == nil {
		// As huggingface_hub does, fall back to what the cache holds when
		// the hub cannot be reached or is failing.
		cached, cerr := c.cache.lookup(r)
		if cerr == nil {
			return cached, nil
		}
		return nil, &kindError{kind: ErrUnavailable, cause: err, msg: fmt.Sprintf(
			"%v; %s is not in the cache %s either (HF_HUB_OFFLINE=1 uses the cache only)", err, r, c.cache.repoDir(r.Repo))}
	}
	return paths, err
}

// fetchOnline asks the hub which files r means and downloads the missing ones.
func (c *Client) fetchOnline(ctx context.Context, r Ref) ([]string, error) {
	rev := r.rev()
	var files []string
	var err error
	if r.File != "" {
		if files, err = modelFiles(r.File); err != nil {
			return nil, err
		}
	} else {
		l, err := c.list(ctx, r.Repo, rev)
		if err != nil {
			return nil, fmt.Errorf("hub: listing %s: %w", r, err)
		}
		m, err := pick(r, l.files)
		if err != nil {
			return nil, err
		}
		files = m.files
		if l.commit != "" {
			// Pin the parts to the commit the listing came from, so a
			// push in between cannot mix files of two revisions.
			if err := c.cache.writeRef(r.Repo, rev, l.commit); err != nil {
				return nil, err
			}
			rev = l.commit
		}
	}
	paths := make([]string, len(files))
	for i, f := range files {
		p, commit, err := c.fetchFile(ctx, r.Repo, r.rev(), rev, f)
		if err != nil {
			return nil, err
		}
		paths[i] = p
		rev = commit // the other parts of a split GGUF come from the same commit
	}
	return paths, nil
}

// fetchFile makes one repository file present in the cache and returns its
// snapshot path and commit. userRev is the revision the reference named
// (recorded in refs/), rev the one asked for (a pinned commit, possibly).
func (c *Client) fetchFile(ctx context.Context, repo, userRev, rev, file string) (string, string, error) {
	m, err := c.metadata(ctx, repo, rev, file)
	if err != nil {
		return "", "", err
	}
	if err := c.cache.writeRef(repo, userRev, m.commit); err != nil {
		return "", "", err
	}
	pointer, err := c.cache.pointerPath(repo, m.commit, file)
	if err != nil {
		return "", "", err
	}
	if c.cache.checkInside(pointer) == nil {
		return pointer, m.commit, nil
	}
	blob, err := c.cache.blobPath(repo, m.etag)
	if err != nil {
		return "", "", err
	}
	if err := c.ensureBlob(ctx, repo, file, m, blob); err != nil {
		return "", "", err
	}
	if err := link(blob, pointer); err != nil {
		return "", "", err
	}
	return pointer, m.commit, nil
}

// ensureBlob downloads the blob unless it is already there, holding the
// blob's lock so concurrent downloads of one file do not collide.
func (c *Client) ensureBlob(ctx context.Context, repo, file string, m meta, blob string) error {
	lock, err := c.cache.lockPath(repo, m.etag)
	if err != nil {
		return err
	}
	unlock, err := lockFile(ctx, lock)
	if err != nil {
		return err
	}
	defer unlock()
	if fi, err := os.Stat(blob); err == nil && fi.Mode().IsRegular() && (m.size < 0 || fi.Size() == m.size) {
		return nil
	}
	return c.download(ctx, file, m, blob)
}

// isNetworkError reports whether err came from failing to reach the hub
// rather than from an answer it gave.
func isNetworkError(err error) bool {
	var se *statusError
	if errors.As(err, &se) || errors.Is(err, ErrInsecureRedirect) || errors.Is(err, errTooManyRedirects) {
		return false
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne)
}

// unavailable reports whether err means the hub could not answer (a network
// failure, or a 5xx or 429 after the retries) rather than that it said no.
func unavailable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.retryable()
	}
	return isNetworkError(err)
}

// origin returns scheme://host[:port] of u, lower-cased, with default ports
// made explicit so that "https://h" and "https://h:443" compare equal.
func origin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(host, port)
}

// sameOrigin reports whether u is on the endpoint's origin.
func (c *Client) sameOrigin(u *url.URL) bool { return origin(u) == origin(c.endpoint) }

// checkTarget enforces the redirect rule: https anywhere, plain http only on
// the endpoint's own origin (a hub mirror configured as http://...).
func (c *Client) checkTarget(u *url.URL) error {
	if strings.EqualFold(u.Scheme, "https") || c.sameOrigin(u) {
		return nil
	}
	return errorOf(ErrInsecureRedirect, "refusing a redirect to %s://%s (only https, or the endpoint's own origin)", u.Scheme, u.Host)
}

// maxRedirects bounds a download's redirect chain, as net/http's default does.
const maxRedirects = 10

var errTooManyRedirects = errors.New("too many redirects")

// checkRedirect is the download client's redirect policy: at most 10 hops,
// each allowed by checkTarget, and the token never follows a redirect off
// the endpoint's origin (a CDN must not see it).
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w (%d)", errTooManyRedirects, len(via))
	}
	if err := c.checkTarget(req.URL); err != nil {
		return err
	}
	if !c.sameOrigin(req.URL) {
		req.Header.Del("Authorization")
	}
	return nil
}

// newRequest builds a request to u with the headers every hub request
// carries; the token goes only to the endpoint's origin.
func (c *Client) newRequest(ctx context.Context, method string, u *url.URL) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	// identity: no transparent gzip, so byte offsets (Range) and sizes are
	// those of the file, as huggingface_hub asks.
	req.Header.Set("Accept-Encoding", "identity")
	if c.o.Token != "" && c.sameOrigin(u) {
		req.Header.Set("Authorization", "Bearer "+c.o.Token)
	}
	return req, nil
}

// statusError is an unexpected HTTP status from the hub.
type statusError struct {
	url    string
	status int
	code   string // X-Error-Code, e.g. RepoNotFound, EntryNotFound, GatedRepo
	msg    string // X-Error-Message
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.url, e.status)
	if e.code != "" {
		s += " " + e.code
	}
	if e.msg != "" {
		s += ": " + e.msg
	}
	switch e.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		s += " (gated or private repository? set HF_TOKEN or --token)"
	}
	return s
}

// Unwrap maps statuses to the package sentinels.
func (e *statusError) Unwrap() error {
	switch e.status {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	}
	return nil
}

// retryable reports whether trying again may help.
func (e *statusError) retryable() bool {
	return e.status == http.StatusTooManyRequests || e.status == http.StatusRequestTimeout || e.status >= 500
}

// maxErrorHeader is how much of the hub's X-Error-Code and X-Error-Message
// an error quotes: enough for the hub's own sentences.
const maxErrorHeader = 200

func newStatusError(resp *http.Response) *statusError {
	return &statusError{
		url:    redactURL(resp.Request.URL),
		status: resp.StatusCode,
		code:   clip(resp.Header.Get("X-Error-Code"), maxErrorHeader),
		msg:    clip(resp.Header.Get("X-Error-Message"), maxErrorHeader),
	}
}

// redactURL drops the query (CDN URLs carry signatures) from u for messages.
func redactURL(u *url.URL) string {
	v := *u
	v.RawQuery, v.Fragment, v.User = "", "", nil
	return v.String()
}
