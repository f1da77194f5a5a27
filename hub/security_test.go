// Tests of the defences: path traversal through references and through
// values a server sends, the redirect rule (https only off the endpoint's
// origin) and the token never reaching another origin.

package hub

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// filesOutside lists the files under dir's parent that are not under dir,
// to catch anything written outside the cache.
func filesOutside(t *testing.T, parent, cacheDir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(p, cacheDir+string(filepath.Separator)) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestTraversalInReferences(t *testing.T) {
	f := newFakeHub(t, hubOpts{})
	f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": {content: []byte("x"), lfs: true}})
	parent := t.TempDir()
	o := f.options(t)
	o.CacheDir = filepath.Join(parent, "cache")
	c := newClient(t, o)
	for _, ref := range []string{
		"../repo/m.gguf",           // relative path that does not exist
		"org/../etc/passwd",        // ".." as the repo name
		"org/repo/../../../x.gguf", // ".." in the file path
		"org/repo/a/../../x.gguf",
		"org/repo//etc/passwd", // absolute file path inside the repo
		"org/repo/./m.gguf",
		"org/repo/a\\..\\..\\x.gguf",
		"org--x/repo/m.gguf", // "--" would alias another repo's folder
		"../../org/repo:Q8_0",
		"org/repo:Q8_0@../../main",
		"org/repo:Q8_0@refs/../main",
		"org/repo/m.gguf@.hidden",
		"/etc/passwd/x",
		"org/repo/m\x00.gguf",
	} {
		t.Run(ref, func(t *testing.T) {
			_, err := c.Resolve(context.Background(), ref)
			if !errors.Is(err, ErrInvalidRef) && !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrInvalidRef or ErrNotFound", err)
			}
		})
	}
	if out := filesOutside(t, parent, o.CacheDir); len(out) > 0 {
		t.Errorf("files written outside the cache: %v", out)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid references, want 0", n)
	}
}

func TestTraversalFromServer(t *testing.T) {
	content := []byte("payload")
	for _, tc := range []struct {
		name  string
		file  *fakeFile
		extra []string
		ref   string
		want  error
	}{
		{"commit with dots", &fakeFile{content: content, lfs: true, commit: "../../../../tmp/evil"}, nil, "org/repo/m.gguf", ErrBadResponse},
		{"commit absolute", &fakeFile{content: content, lfs: true, commit: "/tmp/evil"}, nil, "org/repo/m.gguf", ErrBadResponse},
		{"etag with dots", &fakeFile{content: content, lfs: true, etag: "../../../evil"}, nil, "org/repo/m.gguf", ErrBadResponse},
		{"etag not a hash", &fakeFile{content: content, etag: "abc"}, nil, "org/repo/m.gguf", ErrBadResponse},
		{"listed names escaping the repo", &fakeFile{content: content, lfs: true},
			[]string{"../../evil-Q6_K.gguf", "/abs/evil-Q6_K.gguf", "a/../../evil-Q6_K.gguf", "a\\..\\evil-Q6_K.gguf"}, "org/repo:Q6_K", ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHub(t, hubOpts{})
			r := f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": tc.file})
			r.extraList = tc.extra
			parent := t.TempDir()
			o := f.options(t)
			o.CacheDir = filepath.Join(parent, "cache")
			_, err := newClient(t, o).Resolve(context.Background(), tc.ref)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if out := filesOutside(t, parent, o.CacheDir); len(out) > 0 {
				t.Errorf("files written outside the cache: %v", out)
			}
		})
	}
}

func TestTokenStaysOnTheHub(t *testing.T) {
	f := newFakeHub(t, hubOpts{tls: true, cdn: true})
	want := payload(21, 10_000)
	f.addRepo("org/private", commitA, map[string]*fakeFile{
		"m-Q8_0.gguf": {content: want, lfs: true},
		"config.json": {content: []byte("{}")},
	})
	o := f.options(t)
	o.Token = "hf_secret"
	c := newClient(t, o)
	for _, ref := range []string{"org/private:Q8_0", "org/private/config.json"} {
		p, err := c.Resolve(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if ref == "org/private:Q8_0" {
			checkFile(t, p, want)
		}
	}
	hubSeen, cdnSeen := 0, 0
	for _, r := range f.requests() {
		switch r.server {
		case "hub":
			hubSeen++
			if r.auth != "Bearer hf_secret" {
				t.Errorf("hub %s %s: Authorization %q, want the token", r.method, r.path, r.auth)
			}
		case "cdn":
			cdnSeen++
			if r.auth != "" {
				t.Errorf("CDN %s %s got Authorization %q", r.method, r.path, r.auth)
			}
		}
	}
	if hubSeen == 0 || cdnSeen == 0 {
		t.Fatalf("hub saw %d requests, CDN %d: the test did not exercise both", hubSeen, cdnSeen)
	}
}

func TestTokenDroppedOnGetRedirect(t *testing.T) {
	// A redirect that happens during the GET itself (the resolve URL of a
	// small file answered 200 to HEAD, then 302 to another origin on GET)
	// goes through the client's redirect policy rather than the HEAD logic.
	var mu sync.Mutex
	var cdnAuth, hubAuth []string
	cdn := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		cdnAuth = append(cdnAuth, r.Header.Get("Authorization"))
		w.Write([]byte("{}"))
	}))
	defer cdn.Close()
	hub := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hubAuth = append(hubAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("X-Repo-Commit", commitA)
		w.Header().Set("ETag", `"`+gitSHA1([]byte("{}"))+`"`)
		w.Header().Set("Content-Length", "2")
		if r.Method == http.MethodGet {
			http.Redirect(w, r, cdn.URL+"/x", http.StatusFound)
		}
	}))
	defer hub.Close()
	c := newClient(t, Options{CacheDir: t.TempDir(), Endpoint: hub.URL, HTTPClient: hub.Client(), Token: "hf_secret", RetryBackoff: 1})
	if _, err := c.Resolve(context.Background(), "org/repo/config.json"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hubAuth) != 2 || hubAuth[0] != "Bearer hf_secret" || hubAuth[1] != "Bearer hf_secret" {
		t.Errorf("hub Authorization = %q, want the token on HEAD and GET", hubAuth)
	}
	if len(cdnAuth) != 1 || cdnAuth[0] != "" {
		t.Errorf("CDN Authorization = %q, want one request without it", cdnAuth)
	}
}

func TestRedirectRule(t *testing.T) {
	want := payload(22, 1000)
	for _, tc := range []struct {
		name string
		o    hubOpts
		ok   bool
	}{
		{"https hub to https CDN", hubOpts{tls: true, cdn: true}, true},
		{"http hub to its own origin", hubOpts{}, true},
		{"https hub to http CDN", hubOpts{tls: true, cdn: true, insecCDN: true}, false},
		{"http hub to another http origin", hubOpts{cdn: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeHub(t, tc.o)
			f.addRepo("org/repo", commitA, map[string]*fakeFile{"m.gguf": {content: want, lfs: true}})
			o := f.options(t)
			o.Token = "hf_secret"
			p, err := newClient(t, o).Resolve(context.Background(), "org/repo/m.gguf")
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				checkFile(t, p, want)
				return
			}
			if !errors.Is(err, ErrInsecureRedirect) {
				t.Fatalf("err = %v, want ErrInsecureRedirect", err)
			}
			if f.count("cdn", "GET", "") != 0 {
				t.Error("the insecure target was contacted")
			}
			assertNothingComplete(t, o.CacheDir, "org/repo")
		})
	}
}

func TestRedirectRuleOnGet(t *testing.T) {
	// An http redirect chain inside the GET is refused by checkRedirect.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }))
	defer other.Close()
	hub := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Repo-Commit", commitA)
		w.Header().Set("ETag", `"`+gitSHA1([]byte("{}"))+`"`)
		if r.Method == http.MethodGet {
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		}
	}))
	defer hub.Close()
	o := Options{CacheDir: t.TempDir(), Endpoint: hub.URL, HTTPClient: hub.Client(), RetryBackoff: 1}
	_, err := newClient(t, o).Resolve(context.Background(), "org/repo/config.json")
	if !errors.Is(err, ErrInsecureRedirect) {
		t.Fatalf("err = %v, want ErrInsecureRedirect", err)
	}
}

func TestUnauthorized(t *testing.T) {
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Error-Code", "GatedRepo")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer hub.Close()
	_, err := newClient(t, Options{CacheDir: t.TempDir(), Endpoint: hub.URL}).Resolve(context.Background(), "org/gated/m.gguf")
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Fatalf("err = %v, want ErrUnauthorized mentioning HF_TOKEN", err)
	}
}

func TestCheckInsideRejectsEscapingSymlink(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret.gguf")
	os.WriteFile(outside, []byte("x"), 0o644)
	c := cache{root: root}
	p, err := c.pointerPath("org/repo", commitA, "m.gguf")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.Symlink(outside, p); err != nil {
		t.Fatal(err)
	}
	if err := c.checkInside(p); err == nil || !strings.Contains(err.Error(), "outside the cache") {
		t.Fatalf("checkInside = %v, want an outside-the-cache error", err)
	}
}
