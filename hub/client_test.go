// Tests of Client.Resolve against the fake hub: each reference form, the
// cache layout, revisions, split GGUFs, listings, local paths and errors.

package hub

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	commitA = "0123456789abcdef0123456789abcdef01234567"
	commitB = "89abcdef0123456789abcdef0123456789abcdef"
)

// payload returns n deterministic pseudo-random bytes.
func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkFile asserts that p holds want.
func checkFile(t *testing.T, p string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d expected", p, len(got), len(want))
	}
}

// checkLayout asserts the Hugging Face cache layout for one file: the
// snapshot path is a relative symlink to blobs/{etag}, refs/{rev} holds the
// commit, and no .incomplete file is left.
func checkLayout(t *testing.T, root, repo, rev, commit, file, etag, got string) {
	t.Helper()
	dir := filepath.Join(root, "models--"+strings.ReplaceAll(repo, "/", "--"))
	want := filepath.Join(dir, "snapshots", commit, filepath.FromSlash(file))
	if got != want {
		t.Fatalf("path = %s, want %s", got, want)
	}
	target, err := os.Readlink(got)
	if err != nil {
		t.Fatalf("snapshot entry is not a symlink: %v", err)
	}
	if filepath.IsAbs(target) {
		t.Errorf("symlink target %s is absolute, want relative", target)
	}
	if abs := filepath.Join(filepath.Dir(got), target); abs != filepath.Join(dir, "blobs", etag) {
		t.Errorf("symlink points to %s, want blobs/%s", abs, etag)
	}
	ref, err := os.ReadFile(filepath.Join(dir, "refs", rev))
	if err != nil || string(ref) != commit {
		t.Errorf("refs/%s = %q, %v; want %s", rev, ref, err, commit)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "blobs", "*"+incompleteSuffix))
	if len(leftovers) > 0 {
		t.Errorf("left behind: %v", leftovers)
	}
}

func TestResolveRefForms(t *testing.T) {
	q8 := payload(1, 70_000)
	q4 := payload(2, 50_000)
	f16 := payload(3, 90_000)
	nested := payload(4, 3_000)
	readme := []byte("# readme\n")
	split := [][]byte{payload(5, 40_000), payload(6, 40_000), payload(7, 1_000)}
	v1 := payload(8, 20_000)

	for _, tc := range []struct {
		name string
		cdn  bool
	}{{"same-origin", false}, {"cdn", true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHub(t, hubOpts{tls: true, cdn: tc.cdn})
			f.addRepo("Qwen/Qwen3-0.6B-GGUF", commitA, map[string]*fakeFile{
				"Qwen3-0.6B-Q8_0.gguf":   {content: q8, lfs: true},
				"Qwen3-0.6B-Q4_K_M.gguf": {content: q4, lfs: true},
				"Qwen3-0.6B-F16.gguf":    {content: f16, lfs: true},
				"mmproj-Qwen3-F16.gguf":  {content: []byte("projector"), lfs: true},
				"sub/dir/tiny.gguf":      {content: nested}, // a non-LFS file: git sha1 etag
				"README.md":              {content: readme},
			})
			f.addRepo("org/big", commitA, map[string]*fakeFile{
				"Big-Q4_K_M-00001-of-00003.gguf": {content: split[0], lfs: true},
				"Big-Q4_K_M-00002-of-00003.gguf": {content: split[1], lfs: true},
				"Big-Q4_K_M-00003-of-00003.gguf": {content: split[2], lfs: true},
			})
			rv := f.addRepo("org/revs", commitB, map[string]*fakeFile{"m-Q8_0.gguf": {content: v1, lfs: true}})
			rv.branches["v1.0"] = commitB
			rv.branches["refs/pr/7"] = commitB

			o := f.options(t)
			c := newClient(t, o)
			ctx := context.Background()
			for _, rc := range []struct {
				ref, repo, rev, commit, file string
				want                         []byte
				lfs                          bool
			}{
				{"Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf", "Qwen/Qwen3-0.6B-GGUF", "main", commitA, "Qwen3-0.6B-Q8_0.gguf", q8, true},
				{"Qwen/Qwen3-0.6B-GGUF:Q8_0", "Qwen/Qwen3-0.6B-GGUF", "main", commitA, "Qwen3-0.6B-Q8_0.gguf", q8, true},
				{"Qwen/Qwen3-0.6B-GGUF:q4_k_m", "Qwen/Qwen3-0.6B-GGUF", "main", commitA, "Qwen3-0.6B-Q4_K_M.gguf", q4, true},
				{"Qwen/Qwen3-0.6B-GGUF:F16", "Qwen/Qwen3-0.6B-GGUF", "main", commitA, "Qwen3-0.6B-F16.gguf", f16, true},
				{"Qwen/Qwen3-0.6B-GGUF/sub/dir/tiny.gguf", "Qwen/Qwen3-0.6B-GGUF", "main", commitA, "sub/dir/tiny.gguf", nested, false},
				{"Qwen/Qwen3-0.6B-GGUF/README.md", "Qwen/Qwen3-0.6B-GGUF", "main", commitA, "README.md", readme, false},
				{"org/revs:Q8_0@v1.0", "org/revs", "v1.0", commitB, "m-Q8_0.gguf", v1, true},
				{"org/revs/m-Q8_0.gguf@" + commitB, "org/revs", "main", commitB, "m-Q8_0.gguf", v1, true},
				{"org/revs", "org/revs", "main", commitB, "m-Q8_0.gguf", v1, true},
				{"org/revs/m-Q8_0.gguf@refs/pr/7", "org/revs", "refs/pr/7", commitB, "m-Q8_0.gguf", v1, true},
			} {
				t.Run(rc.ref, func(t *testing.T) {
					p, err := c.Resolve(ctx, rc.ref)
					if err != nil {
						t.Fatal(err)
					}
					checkFile(t, p, rc.want)
					etag := gitSHA1(rc.want)
					if rc.lfs {
						etag = sha256Hex(rc.want)
					}
					rev := rc.rev
					if strings.Contains(rc.ref, "@"+commitB) {
						rev = "" // a commit revision writes no ref
					}
					if rev != "" {
						checkLayout(t, o.CacheDir, rc.repo, rev, rc.commit, rc.file, etag, p)
					}
				})
			}

			t.Run("split", func(t *testing.T) {
				for _, ref := range []string{"org/big:Q4_K_M", "org/big/Big-Q4_K_M-00002-of-00003.gguf"} {
					paths, err := c.ResolveFiles(ctx, ref)
					if err != nil {
						t.Fatal(err)
					}
					if len(paths) != 3 {
						t.Fatalf("%s: %d paths, want 3", ref, len(paths))
					}
					for i, p := range paths {
						checkFile(t, p, split[i])
					}
					first, err := c.Resolve(ctx, ref)
					if err != nil || !strings.HasSuffix(first, "Big-Q4_K_M-00001-of-00003.gguf") {
						t.Fatalf("Resolve(%s) = %s, %v; want the first part", ref, first, err)
					}
				}
			})

			if tc.cdn {
				if n := f.count("cdn", "GET", "/blob/"+sha256Hex(q8)); n != 1 {
					t.Errorf("Q8_0 blob fetched %d times from the CDN, want 1 (cached afterwards)", n)
				}
			}
		})
	}
}

func TestResolveTreeListingPaginated(t *testing.T) {
	f := newFakeHub(t, hubOpts{pageSize: 1})
	want := payload(9, 5000)
	r := f.addRepo("org/tree", commitA, map[string]*fakeFile{
		"a.txt":           {content: []byte("a")},
		"b.txt":           {content: []byte("b")},
		"c.txt":           {content: []byte("c")},
		"sub/m-Q5_K.gguf": {content: want, lfs: true},
	})
	r.noSiblings = true
	c := newClient(t, f.options(t))
	p, err := c.Resolve(context.Background(), "org/tree:Q5_K")
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, want)
	if n := f.count("hub", "GET", "/tree/main"); n != 4 {
		t.Errorf("tree API fetched %d pages, want 4 (4 files, page size 1)", n)
	}
}

func TestResolveQuantErrors(t *testing.T) {
	f := newFakeHub(t, hubOpts{})
	f.addRepo("org/amb", commitA, map[string]*fakeFile{
		"alpha-Q8_0.gguf":  {content: []byte("a"), lfs: true},
		"beta-Q8_0.gguf":   {content: []byte("b"), lfs: true},
		"beta-Q4_K_M.gguf": {content: []byte("c"), lfs: true},
	})
	f.addRepo("org/partial", commitA, map[string]*fakeFile{
		"m-Q2_K-00001-of-00002.gguf": {content: []byte("a"), lfs: true},
	})
	c := newClient(t, f.options(t))
	for _, tc := range []struct {
		name, ref string
		want      error
		mentions  []string
	}{
		{"ambiguous quant", "org/amb:Q8_0", ErrAmbiguous, []string{"alpha-Q8_0.gguf", "beta-Q8_0.gguf"}},
		{"ambiguous bare repo", "org/amb", ErrAmbiguous, []string{"alpha-Q8_0.gguf", "beta-Q4_K_M.gguf"}},
		{"missing quant lists candidates", "org/amb:Q6_K", ErrNotFound, []string{"Q6_K", "alpha-Q8_0.gguf", "beta-Q4_K_M.gguf"}},
		{"prefix of a longer quant", "org/amb:Q4_K", ErrNotFound, []string{"beta-Q4_K_M.gguf"}},
		{"split with a missing part", "org/partial:Q2_K", ErrNotFound, []string{"1 of 2 parts missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Resolve(context.Background(), tc.ref)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestResolveNotFound(t *testing.T) {
	f := newFakeHub(t, hubOpts{})
	f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": {content: []byte("x"), lfs: true}})
	c := newClient(t, f.options(t))
	for _, tc := range []struct{ name, ref, mention string }{
		{"repo", "org/nope/m.gguf", "RepoNotFound"},
		{"file", "org/repo/other.gguf", "EntryNotFound"},
		{"revision", "org/repo/m.gguf@v9", "RevisionNotFound"},
		{"listing", "org/nope:Q8_0", "RepoNotFound"},
		{"local path", "./no/such/model.gguf", "does not exist"},
		{"absolute local path", "/no/such/model.gguf", "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Resolve(context.Background(), tc.ref)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
	if n := len(f.requests()); n > 8 {
		t.Errorf("%d requests for 4 hub errors: a 404 must not be retried", n)
	}
}

func TestResolveLocalPath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model.gguf")
	if err := os.WriteFile(p, []byte("GGUF"), 0o644); err != nil {
		t.Fatal(err)
	}
	// No endpoint is reachable: a local path must not touch the network.
	c := newClient(t, Options{CacheDir: t.TempDir(), Endpoint: "http://127.0.0.1:1"})
	got, err := c.Resolve(context.Background(), p)
	if err != nil || got != p {
		t.Fatalf("Resolve(%s) = %s, %v", p, got, err)
	}
	t.Chdir(dir)
	got, err = c.Resolve(context.Background(), "model.gguf")
	if err != nil || got != p {
		t.Fatalf("Resolve(relative) = %s, %v; want %s", got, err, p)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no cache", Options{}},
		{"ftp endpoint", Options{CacheDir: "x", Endpoint: "ftp://example.com"}},
		{"no host", Options{CacheDir: "x", Endpoint: "https://"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.o); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
}

func TestRelativeRedirectIsFollowed(t *testing.T) {
	// A renamed repository answers the old name with a relative redirect to
	// the new one; the HEAD follows it (on the hub's own origin only).
	f := newFakeHub(t, hubOpts{})
	want := payload(10, 4000)
	f.addRepo("org/new-name", commitA, map[string]*fakeFile{"m.gguf": {content: want, lfs: true}})
	o := f.options(t)
	base := o.HTTPClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasPrefix(r.URL.Path, "/org/old-name/") {
			h := http.Header{}
			h.Set("Location", strings.Replace(r.URL.Path, "/org/old-name/", "/org/new-name/", 1))
			return &http.Response{StatusCode: http.StatusTemporaryRedirect, Header: h, Body: http.NoBody, Request: r}, nil
		}
		return base.RoundTrip(r)
	})}
	p, err := newClient(t, o).Resolve(context.Background(), "org/old-name/m.gguf")
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, want)
	if !strings.Contains(p, "models--org--old-name") {
		t.Errorf("path %s: want the cache folder of the name asked for, as huggingface_hub keeps it", p)
	}
}
