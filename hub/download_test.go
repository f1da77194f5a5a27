// Tests of the download path: resume after a cut connection (within one
// call and across calls), checksum mismatches that must leave nothing that
// looks complete, bounded retries, cancellation and progress reports.

package hub

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// blobDir returns the blobs directory of repo in the cache.
func blobDir(root, repo string) string {
	return filepath.Join(root, repoFolder(repo), "blobs")
}

func TestResumeAfterCutConnection(t *testing.T) {
	for _, tc := range []struct {
		name string
		lfs  bool
	}{{"lfs", true}, {"git", false}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHub(t, hubOpts{tls: true, cdn: true})
			want := payload(11, 3_000_000)
			f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": {content: want, lfs: tc.lfs}})
			key := "m.gguf"
			if tc.lfs {
				key = sha256Hex(want)
			}
			const cut = 1_234_567
			f.cutAfter[key] = cut

			o := f.options(t)
			var mu sync.Mutex
			var reports []Progress
			o.Progress = func(p Progress) { mu.Lock(); reports = append(reports, p); mu.Unlock() }
			c := newClient(t, o)
			p, err := c.Resolve(context.Background(), "org/repo/m.gguf")
			if err != nil {
				t.Fatal(err)
			}
			checkFile(t, p, want)

			var gets []request
			for _, r := range f.requests() {
				if r.method == http.MethodGet && (strings.HasPrefix(r.path, "/blob/") || strings.HasSuffix(r.path, "/m.gguf")) {
					gets = append(gets, r)
				}
			}
			if len(gets) != 2 {
				t.Fatalf("%d GETs of the file, want 2 (cut, then resumed): %+v", len(gets), gets)
			}
			if gets[0].rng != "" || gets[1].rng != "bytes=1234567-" {
				t.Errorf("ranges = %q, %q; want none, then bytes=%d-", gets[0].rng, gets[1].rng, cut)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reports) == 0 {
				t.Fatal("no progress reported")
			}
			last := reports[len(reports)-1]
			if last.File != "m.gguf" || last.Done != int64(len(want)) || last.Total != int64(len(want)) {
				t.Errorf("last progress = %+v, want done = total = %d", last, len(want))
			}
			for i := 1; i < len(reports); i++ {
				if reports[i].Done < reports[i-1].Done {
					t.Errorf("progress went backwards: %d then %d", reports[i-1].Done, reports[i].Done)
				}
			}
		})
	}
}

func TestResumeAcrossCalls(t *testing.T) {
	want := payload(12, 200_000)
	sha := sha256Hex(want)
	for _, tc := range []struct {
		name    string
		partial []byte
		gets    int // GETs of the blob expected
	}{
		{"good prefix", want[:80_000], 1},
		{"corrupt prefix", append(append([]byte{}, want[:79_999]...), want[79_999]^0xff), 2},
		{"longer than the file", append(append([]byte{}, want...), 1, 2, 3), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHub(t, hubOpts{})
			f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": {content: want, lfs: true}})
			o := f.options(t)
			dir := blobDir(o.CacheDir, "org/repo")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, sha+incompleteSuffix), tc.partial, 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := newClient(t, o).Resolve(context.Background(), "org/repo/m.gguf")
			if err != nil {
				t.Fatal(err)
			}
			checkFile(t, p, want)
			if n := f.count("hub", "GET", "/blob/"+sha); n != tc.gets {
				t.Errorf("%d GETs of the blob, want %d", n, tc.gets)
			}
			if tc.name == "good prefix" {
				for _, r := range f.requests() {
					if r.method == "GET" && strings.HasPrefix(r.path, "/blob/") && r.rng != "bytes=80000-" {
						t.Errorf("range %q, want bytes=80000-", r.rng)
					}
				}
			}
		})
	}
}

// assertNothingComplete checks that a failed download left no blob, no
// partial file and no snapshot entry.
func assertNothingComplete(t *testing.T, root, repo string) {
	t.Helper()
	dir := filepath.Join(root, repoFolder(repo))
	for _, pattern := range []string{"blobs/*", "snapshots/*/*"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(m) > 0 {
			t.Errorf("left behind after a failed download: %v", m)
		}
	}
}

func TestChecksumMismatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		file *fakeFile
	}{
		{"lfs sha256", &fakeFile{content: payload(13, 100_000), lfs: true, etag: sha256Hex([]byte("something else"))}},
		{"git sha1", &fakeFile{content: []byte("small file"), etag: gitSHA1([]byte("other"))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHub(t, hubOpts{})
			f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": tc.file})
			o := f.options(t)
			_, err := newClient(t, o).Resolve(context.Background(), "org/repo/m.gguf")
			if !errors.Is(err, ErrChecksum) {
				t.Fatalf("err = %v, want ErrChecksum", err)
			}
			assertNothingComplete(t, o.CacheDir, "org/repo")
		})
	}
}

func TestChecksumMismatchAfterCut(t *testing.T) {
	// A cut, a resume, and still the wrong bytes: the resumed bytes are
	// suspected first (one fresh download), then the error stands.
	f := newFakeHub(t, hubOpts{})
	ff := &fakeFile{content: payload(14, 500_000), lfs: true, etag: sha256Hex([]byte("x"))}
	f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": ff})
	o := f.options(t)
	dir := blobDir(o.CacheDir, "org/repo")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, ff.etag+incompleteSuffix), ff.content[:1000], 0o644)
	_, err := newClient(t, o).Resolve(context.Background(), "org/repo/m.gguf")
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	assertNothingComplete(t, o.CacheDir, "org/repo")
}

func TestRetriesAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name       string
		hubStatus  int // every hub request
		blobStatus int // blob GETs only
		path       string
		wantTries  int
	}{
		{"metadata", http.StatusServiceUnavailable, 0, "/org/repo/resolve/main/m.gguf", 1 + maxAPIRetries},
		{"transfer", 0, http.StatusBadGateway, "/blob/", 1 + 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHub(t, hubOpts{})
			f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": {content: []byte("x"), lfs: true}})
			f.status, f.blobBad = tc.hubStatus, tc.blobStatus
			o := f.options(t)
			o.Retries = 4
			_, err := newClient(t, o).Resolve(context.Background(), "org/repo/m.gguf")
			if err == nil || !strings.Contains(err.Error(), "HTTP 50") {
				t.Fatalf("err = %v, want the 5xx", err)
			}
			n := 0
			for _, r := range f.requests() {
				if strings.HasPrefix(r.path, tc.path) {
					n++
				}
			}
			if n != tc.wantTries {
				t.Errorf("%d requests to %s, want %d", n, tc.path, tc.wantTries)
			}
			assertNothingComplete(t, o.CacheDir, "org/repo")
		})
	}
}

func TestBackoff(t *testing.T) {
	for attempt, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		if got := backoff(time.Second, attempt); got != want {
			t.Errorf("backoff(1s, %d) = %v, want %v", attempt, got, want)
		}
	}
	if got := backoff(time.Second, 1000); got != maxRetryBackoff {
		t.Errorf("backoff(1s, 1000) = %v, want the cap %v", got, maxRetryBackoff)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	f := newFakeHub(t, hubOpts{})
	f.status = http.StatusBadGateway
	o := f.options(t)
	o.RetryBackoff = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newClient(t, o).Resolve(ctx, "org/repo/m.gguf")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("returned after %v: the backoff ignored ctx", el)
	}
}

func TestStalledTransferIsRetried(t *testing.T) {
	want := payload(15, 10_000)
	var mu sync.Mutex
	calls := 0
	srv := newFakeHub(t, hubOpts{})
	srv.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": {content: want, lfs: true}})
	// The first GET of the blob hangs after 100 bytes.
	o := srv.options(t)
	o.StallTimeout = 200 * time.Millisecond
	base := o.HTTPClient.Transport
	o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if err != nil || r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/blob/") {
			return resp, err
		}
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			resp.Body = &stallingBody{r: resp.Body, n: 100, ctx: r.Context()}
		}
		return resp, nil
	})}
	p, err := newClient(t, o).Resolve(context.Background(), "org/repo/m.gguf")
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, want)
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Errorf("%d GETs, want 2 (stalled, then resumed)", calls)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// stallingBody passes n bytes, then blocks until its request is cancelled.
type stallingBody struct {
	r   io.ReadCloser
	n   int
	ctx context.Context
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	if len(p) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= n
	return n, err
}

func (b *stallingBody) Close() error { return b.r.Close() }

func TestConcurrentResolveDownloadsOnce(t *testing.T) {
	f := newFakeHub(t, hubOpts{})
	want := payload(16, 2_000_000)
	f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": {content: want, lfs: true}})
	c := newClient(t, f.options(t))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	paths := make([]string, 4)
	for i := range errs {
		wg.Go(func() { paths[i], errs[i] = c.Resolve(context.Background(), "org/repo/m.gguf") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("resolver %d: %v", i, err)
		}
		checkFile(t, paths[i], want)
	}
	if n := f.count("hub", "GET", "/blob/"+sha256Hex(want)); n != 1 {
		t.Errorf("blob downloaded %d times by 4 concurrent resolvers, want 1", n)
	}
}

func TestResumeWhenServerIgnoresRange(t *testing.T) {
	want := payload(17, 300_000)
	f := newFakeHub(t, hubOpts{})
	f.noRange = true
	f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": {content: want, lfs: true}})
	o := f.options(t)
	var reports []Progress
	o.Progress = func(p Progress) { reports = append(reports, p) }
	o.ProgressInterval = time.Nanosecond
	dir := blobDir(o.CacheDir, "org/repo")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, sha256Hex(want)+incompleteSuffix), want[:100_000], 0o644)
	p, err := newClient(t, o).Resolve(context.Background(), "org/repo/m.gguf")
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, want)
	if len(reports) == 0 {
		t.Fatal("no progress")
	}
	for _, r := range reports {
		if r.BytesPerSec < 0 || r.Done < 0 || r.Done > r.Total {
			t.Fatalf("bad progress report %+v", r)
		}
	}
}

func TestInterruptedDownloadResumesLater(t *testing.T) {
	want := payload(18, 3_000_000)
	sha := sha256Hex(want)
	f := newFakeHub(t, hubOpts{})
	f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": {content: want, lfs: true}})
	o := f.options(t)
	o.ProgressInterval = time.Nanosecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.Progress = func(p Progress) {
		if p.Done > 0 {
			cancel() // the user pressed ^C once bytes arrived
		}
	}
	_, err := newClient(t, o).Resolve(ctx, "org/repo/m.gguf")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	blobs, _ := filepath.Glob(filepath.Join(blobDir(o.CacheDir, "org/repo"), "*"))
	if len(blobs) != 1 || filepath.Base(blobs[0]) != sha+incompleteSuffix {
		t.Fatalf("after the interruption the blobs are %v, want only %s%s", blobs, sha, incompleteSuffix)
	}
	fi, _ := os.Stat(blobs[0])
	if snaps, _ := filepath.Glob(filepath.Join(o.CacheDir, repoFolder("org/repo"), "snapshots", "*", "*")); len(snaps) > 0 {
		t.Fatalf("snapshot entries after an interrupted download: %v", snaps)
	}

	o.Progress = nil
	p, err := newClient(t, o).Resolve(context.Background(), "org/repo/m.gguf")
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, want)
	reqs := f.requests()
	last := reqs[len(reqs)-1]
	if wantRange := "bytes=" + strconv.FormatInt(fi.Size(), 10) + "-"; last.rng != wantRange {
		t.Errorf("resumed with Range %q, want %q", last.rng, wantRange)
	}
}
