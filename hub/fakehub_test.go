// This file is a fake Hugging Face hub for the tests: the resolve endpoint
// (HEAD and GET, with LFS files redirected to a CDN as the real hub does),
// the model-info and tree listing APIs, Range requests, and knobs to cut a
// connection mid-body, lie about a hash, or send hostile values.

package hub

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeFile is one file of a fake repository.
type fakeFile struct {
	content []byte
	lfs     bool   // served like an LFS file: X-Linked-Etag sha256 and a redirect to the CDN
	etag    string // if set, announced instead of the real hash (a lie)
	commit  string // if set, sent as X-Repo-Commit instead of the repo's commit
}

// fakeRepo is one repository at one commit, reachable by its branches.
type fakeRepo struct {
	commit     string
	branches   map[string]string // revision name -> commit; "main" is implied
	files      map[string]*fakeFile
	noSiblings bool     // the model-info API omits siblings (forces the tree API)
	extraList  []string // names listed but not served (hostile listings)
}

// request is what the fake hub saw.
type request struct {
	server, method, path, auth, rng string
}

type fakeHub struct {
	t   *testing.T
	hub *httptest.Server
	cdn *httptest.Server // nil: LFS redirects stay on the hub's origin

	mu       sync.Mutex
	repos    map[string]*fakeRepo
	reqs     []request
	cutAfter map[string]int64 // blob sha256 or file path -> cut the next GET body after n bytes
	status   int              // if set, every request answers this status
	pageSize int              // tree API page size
	noRange  bool             // ignore Range headers (answer 200 with everything)
	blobBad  int              // if set, every LFS blob GET answers this status
}

type hubOpts struct {
	tls       bool // serve hub (and CDN) over TLS
	cdn       bool // a separate CDN server (another origin) for LFS files
	insecCDN  bool // with tls: the CDN is plain http
	pageSize  int
	httpOnlyR bool
}

func newFakeHub(t *testing.T, o hubOpts) *fakeHub {
	t.Helper()
	f := &fakeHub{t: t, repos: map[string]*fakeRepo{}, cutAfter: map[string]int64{}, pageSize: o.pageSize}
	if f.pageSize == 0 {
		f.pageSize = 1000
	}
	start := httptest.NewServer
	if o.tls {
		start = httptest.NewTLSServer
	}
	f.hub = start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serveHub(w, r) }))
	t.Cleanup(f.hub.Close)
	if o.cdn {
		cdnStart := start
		if o.insecCDN {
			cdnStart = httptest.NewServer
		}
		f.cdn = cdnStart(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serveCDN(w, r) }))
		t.Cleanup(f.cdn.Close)
	}
	return f
}

// client returns options pointing at the fake hub with a fresh cache.
func (f *fakeHub) options(t *testing.T) Options {
	return Options{
		CacheDir:     t.TempDir(),
		Endpoint:     f.hub.URL,
		HTTPClient:   f.hub.Client(), // trusts the httptest certificate (shared by all httptest TLS servers)
		RetryBackoff: 1,              // 1ns: retries without waiting
	}
}

func (f *fakeHub) addRepo(id, commit string, files map[string]*fakeFile) *fakeRepo {
	r := &fakeRepo{commit: commit, branches: map[string]string{}, files: files}
	f.mu.Lock()
	f.repos[id] = r
	f.mu.Unlock()
	return r
}

func (f *fakeHub) record(server string, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, request{server, r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Range")})
}

func (f *fakeHub) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// count returns how many requests matched server, method and a path suffix.
func (f *fakeHub) count(server, method, suffix string) int {
	n := 0
	for _, r := range f.requests() {
		if r.server == server && r.method == method && strings.HasSuffix(r.path, suffix) {
			n++
		}
	}
	return n
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func gitSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func (ff *fakeFile) hash() string {
	if ff.etag != "" {
		return ff.etag
	}
	if ff.lfs {
		return sha256Hex(ff.content)
	}
	return gitSHA1(ff.content)
}

func notFound(w http.ResponseWriter, code string) {
	w.Header().Set("X-Error-Code", code)
	w.Header().Set("X-Error-Message", code+" in fake hub")
	http.Error(w, code, http.StatusNotFound)
}

// splitRepoPath splits "org/name/rest" from an escaped URL path.
func splitRepoPath(p string) (repo string, rest []string, ok bool) {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(segs) < 2 {
		return "", nil, false
	}
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return "", nil, false
		}
		segs[i] = u
	}
	return segs[0] + "/" + segs[1], segs[2:], true
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	f.record("hub", r)
	f.mu.Lock()
	status := f.status
	f.mu.Unlock()
	if status != 0 {
		http.Error(w, "forced", status)
		return
	}
	p := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(p, "/api/models/"); ok {
		f.serveAPI(w, r, rest)
		return
	}
	if rest, ok := strings.CutPrefix(p, "/blob/"); ok { // same-origin "CDN"
		f.serveBlob(w, r, rest)
		return
	}
	repoID, rest, ok := splitRepoPath(p)
	if !ok || len(rest) < 3 || rest[0] != "resolve" {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	repo := f.repos[repoID]
	f.mu.Unlock()
	if repo == nil {
		notFound(w, "RepoNotFound")
		return
	}
	commit, ok := repo.resolve(rest[1])
	if !ok {
		notFound(w, "RevisionNotFound")
		return
	}
	file := strings.Join(rest[2:], "/")
	ff := repo.files[file]
	if ff == nil || commit != repo.commit {
		notFound(w, "EntryNotFound")
		return
	}
	h := w.Header()
	h.Set("X-Repo-Commit", commit)
	if ff.commit != "" {
		h.Set("X-Repo-Commit", ff.commit)
	}
	if ff.lfs {
		h.Set("X-Linked-Etag", `"`+ff.hash()+`"`)
		h.Set("X-Linked-Size", strconv.Itoa(len(ff.content)))
		h.Set("ETag", `W/"not-the-content-hash"`)
		base := f.hub.URL
		if f.cdn != nil {
			base = f.cdn.URL
		}
		h.Set("Location", base+"/blob/"+sha256Hex(ff.content)+"?sig=secret")
		w.WriteHeader(http.StatusFound)
		return
	}
	h.Set("ETag", `"`+ff.hash()+`"`)
	f.serveBytes(w, r, file, ff.content)
}

func (r *fakeRepo) resolve(rev string) (string, bool) {
	if rev == "main" || rev == r.commit {
		return r.commit, true
	}
	c, ok := r.branches[rev]
	return c, ok
}

func (f *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	f.record("cdn", r)
	rest, ok := strings.CutPrefix(r.URL.Path, "/blob/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	f.serveBlob(w, r, rest)
}

// serveBlob serves an LFS blob by its sha256.
func (f *fakeHub) serveBlob(w http.ResponseWriter, r *http.Request, sha string) {
	f.mu.Lock()
	if f.blobBad != 0 {
		f.mu.Unlock()
		http.Error(w, "forced", f.blobBad)
		return
	}
	var content []byte
	found := false
	for _, repo := range f.repos {
		for _, ff := range repo.files {
			if ff.lfs && sha256Hex(ff.content) == sha {
				content, found = ff.content, true
			}
		}
	}
	f.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	f.serveBytes(w, r, sha, content)
}

// serveBytes answers a GET or HEAD with Range support ("bytes=N-" only, as
// the client sends), cutting the connection mid-body when asked.
func (f *fakeHub) serveBytes(w http.ResponseWriter, r *http.Request, key string, b []byte) {
	start := 0
	f.mu.Lock()
	noRange := f.noRange
	f.mu.Unlock()
	if rg := r.Header.Get("Range"); rg != "" && !noRange {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		if err != nil || n < 0 {
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		if n >= len(b) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(b)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start = n
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", n, len(b)-1, len(b)))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)-start))
	w.Header().Set("Accept-Ranges", "bytes")
	if start > 0 {
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	if r.Method == http.MethodHead {
		return
	}
	f.mu.Lock()
	cut, ok := f.cutAfter[key]
	if ok {
		delete(f.cutAfter, key)
	}
	f.mu.Unlock()
	body := b[start:]
	if ok && cut < int64(len(body)) {
		w.Write(body[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	w.Write(body)
}

func (f *fakeHub) serveAPI(w http.ResponseWriter, r *http.Request, escaped string) {
	repoID, rest, ok := splitRepoPath(escaped)
	f.mu.Lock()
	repo := f.repos[repoID]
	f.mu.Unlock()
	if !ok || repo == nil {
		notFound(w, "RepoNotFound")
		return
	}
	rev := "main"
	tree := false
	switch {
	case len(rest) == 0:
	case len(rest) == 2 && rest[0] == "revision":
		rev = rest[1]
	case len(rest) == 2 && rest[0] == "tree":
		rev, tree = rest[1], true
	default:
		http.NotFound(w, r)
		return
	}
	commit, ok := repo.resolve(rev)
	if !ok {
		notFound(w, "RevisionNotFound")
		return
	}
	names := repo.extraList
	for name := range repo.files {
		names = append(names, name)
	}
	sort.Strings(names)
	w.Header().Set("Content-Type", "application/json")
	if !tree {
		info := map[string]any{"id": repoID, "sha": commit}
		if !repo.noSiblings {
			sib := []map[string]string{}
			for _, n := range names {
				sib = append(sib, map[string]string{"rfilename": n})
			}
			info["siblings"] = sib
		}
		json.NewEncoder(w).Encode(info)
		return
	}
	if r.URL.Query().Get("recursive") != "true" {
		http.Error(w, "want recursive", http.StatusBadRequest)
		return
	}
	off, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	end := min(off+f.pageSize, len(names))
	var entries []map[string]any
	if off == 0 {
		entries = append(entries, map[string]any{"type": "directory", "path": "sub"})
	}
	for _, n := range names[off:end] {
		entries = append(entries, map[string]any{"type": "file", "path": n, "oid": "x", "size": 1})
	}
	if end < len(names) {
		next := fmt.Sprintf("%s/api/models/%s/tree/%s?recursive=true&cursor=%d", f.hub.URL, repoID, url.PathEscape(rev), end)
		w.Header().Set("Link", "<"+next+`>; rel="next"`)
	}
	json.NewEncoder(w).Encode(entries)
}
