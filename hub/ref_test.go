// Tests of the reference grammar, the name validators, quantization
// matching, split-file naming and model selection, plus a fuzz test of the
// parser.

package hub

import (
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Ref
	}{
		{"Qwen/Qwen3-0.6B-GGUF:Q8_0", Ref{Repo: "Qwen/Qwen3-0.6B-GGUF", Quant: "Q8_0"}},
		{"Qwen/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q8_0.gguf", Ref{Repo: "Qwen/Qwen3-0.6B-GGUF", File: "Qwen3-0.6B-Q8_0.gguf"}},
		{"org/repo/dir/sub/m.gguf", Ref{Repo: "org/repo", File: "dir/sub/m.gguf"}},
		{"org/repo", Ref{Repo: "org/repo"}},
		{"org/repo@v1.0", Ref{Repo: "org/repo", Revision: "v1.0"}},
		{"org/repo:UD-Q4_K_XL@refs/pr/12", Ref{Repo: "org/repo", Quant: "UD-Q4_K_XL", Revision: "refs/pr/12"}},
		{"org/repo/m.gguf@" + commitA, Ref{Repo: "org/repo", File: "m.gguf", Revision: commitA}},
		{"org/repo/m@2x.gguf", Ref{Repo: "org/repo", File: "m@2x.gguf"}},
		{"  org/repo:q4_k_m  ", Ref{Repo: "org/repo", Quant: "q4_k_m"}},
		{"a_b/c.d-e_f", Ref{Repo: "a_b/c.d-e_f"}},
		{"org/repo/file:with:colons.gguf", Ref{Repo: "org/repo", File: "file:with:colons.gguf"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRef(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("ParseRef = %+v, want %+v", got, tc.want)
			}
			again, err := ParseRef(got.String())
			if err != nil || again != got {
				t.Fatalf("String() %q parses to %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseRefErrors(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"no namespace", "model.gguf"},
		{"empty quant", "org/repo:"},
		{"bad quant char", "org/repo:Q8 0"},
		{"quant only underscores", "org/repo:__"},
		{"empty revision", "org/repo@"},
		{"revision with dots", "org/repo@../x"},
		{"revision segment hidden", "org/repo@refs/.x"},
		{"revision double slash", "org/repo@a//b"},
		{"revision lock", "org/repo@main.lock"},
		{"empty repo name", "org/:Q8_0"},
		{"empty namespace", "/repo/m.gguf"},
		{"dotdot file", "org/repo/../m.gguf"},
		{"dot file segment", "org/repo/./m.gguf"},
		{"trailing slash", "org/repo/dir/"},
		{"backslash", `org/repo/a\b.gguf`},
		{"control char", "org/repo/a\tb.gguf"},
		{"invalid utf8", "org/repo/\xff.gguf"},
		{"repo --", "org/a--b:Q8_0"},
		{"repo ..", "org/a..b:Q8_0"},
		{"repo .git", "org/repo.git"},
		{"repo starts with dash", "org/-repo"},
		{"repo ends with dot", "org/repo."},
		{"namespace starts with dot", ".org/repo"},
		{"non-ascii repo", "org/café"},
		{"repo too long", "org/" + strings.Repeat("a", 97)},
		{"reference too long", "org/repo/" + strings.Repeat("a/", 3000) + "m.gguf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRef(tc.in)
			if !errors.Is(err, ErrInvalidRef) {
				t.Fatalf("ParseRef(%q) = %+v, %v; want ErrInvalidRef", tc.in, r, err)
			}
		})
	}
}

// TestValidateRepoID follows huggingface_hub's documented examples.
func TestValidateRepoID(t *testing.T) {
	for _, id := range []string{"foo/bar", "123/456", "user/Foo-BAR_foo.bar123", "0-hero/OIG-small-chip2", "a/" + strings.Repeat("b", 96)} {
		if err := ValidateRepoID(id); err != nil {
			t.Errorf("ValidateRepoID(%q) = %v, want ok", id, err)
		}
	}
	for _, id := range []string{"foo", "datasets/foo/bar", "foo/.repo_id", "foo/foo--bar", "foo/foo.git", "foo/other..repo", "foo/a b", "foo/", "/bar", "a/" + strings.Repeat("b", 97)} {
		if err := ValidateRepoID(id); !errors.Is(err, ErrInvalidRef) {
			t.Errorf("ValidateRepoID(%q) = %v, want ErrInvalidRef", id, err)
		}
	}
}

func TestMatchQuant(t *testing.T) {
	for _, tc := range []struct {
		name, quant string
		want        bool
	}{
		{"Qwen3-0.6B-Q8_0.gguf", "Q8_0", true},
		{"Qwen3-0.6B-Q8_0.gguf", "q8_0", true},
		{"Qwen3-0.6B-Q4_K_M.gguf", "Q4_K", false},
		{"Qwen3-0.6B-Q4_K_M.gguf", "Q4_K_M", true},
		{"Qwen3-0.6B-BF16.gguf", "F16", false},
		{"Qwen3-0.6B-BF16.gguf", "BF16", true},
		{"Model-IQ4_XS.gguf", "Q4_XS", false},
		{"Model-UD-Q4_K_XL.gguf", "UD-Q4_K_XL", true},
		{"Model-UD-Q4_K_XL.gguf", "Q4_K_XL", true},
		{"Q8_0/Model-Q8_0-00001-of-00002.gguf", "Q8_0", true},
		{"Model-q8_0.gguf", "Q8_0", true},
		{"Model.Q8_0.gguf", "Q8_0", true},
		{"Model-Q8_0.gguf", "gguf", false},
		{"Model-Q8_00.gguf", "Q8_0", false},
	} {
		if got := matchQuant(tc.name, tc.quant); got != tc.want {
			t.Errorf("matchQuant(%q, %q) = %v, want %v", tc.name, tc.quant, got, tc.want)
		}
	}
}

func TestParseSplit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ok     bool
		prefix string
		part   int
		count  int
	}{
		{"m-00001-of-00003.gguf", true, "m", 1, 3},
		{"dir/Big-Q4_K_M-00002-of-00003.gguf", true, "dir/Big-Q4_K_M", 2, 3},
		{"m-00004-of-00003.gguf", false, "", 0, 0},
		{"m-00000-of-00003.gguf", false, "", 0, 0},
		{"m-0001-of-0003.gguf", false, "", 0, 0},
		{"m-000+1-of-00003.gguf", false, "", 0, 0},
		{"-00001-of-00003.gguf", false, "", 0, 0},
		{"m.gguf", false, "", 0, 0},
	} {
		s, ok := parseSplit(tc.name)
		if ok != tc.ok || ok && (s.prefix != tc.prefix || s.part != tc.part || s.count != tc.count) {
			t.Errorf("parseSplit(%q) = %+v, %v", tc.name, s, ok)
		}
	}
	files, err := modelFiles("x/m-00002-of-00003.gguf")
	if err != nil || strings.Join(files, " ") != "x/m-00001-of-00003.gguf x/m-00002-of-00003.gguf x/m-00003-of-00003.gguf" {
		t.Errorf("modelFiles = %v, %v", files, err)
	}
	if _, err := modelFiles("m-00001-of-99999.gguf"); !errors.Is(err, ErrInvalidRef) {
		t.Errorf("modelFiles with 99999 parts: %v, want ErrInvalidRef", err)
	}
}

func TestPick(t *testing.T) {
	listing := []string{
		"README.md", "mmproj-F16.gguf", "m-F16.gguf", "m-Q8_0.gguf",
		"big/m-Q2_K-00001-of-00002.gguf", "big/m-Q2_K-00002-of-00002.gguf",
		"../evil-Q6_K.gguf",
	}
	for _, tc := range []struct {
		quant string
		want  string // first file, or "" for an error
		err   error
	}{
		{"F16", "m-F16.gguf", nil},
		{"q8_0", "m-Q8_0.gguf", nil},
		{"Q2_K", "big/m-Q2_K-00001-of-00002.gguf", nil},
		{"Q6_K", "", ErrNotFound},
		{"", "", ErrAmbiguous},
	} {
		m, err := pick(Ref{Repo: "o/r", Quant: tc.quant}, listing)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("pick(%q) = %v, %v; want %v", tc.quant, m, err, tc.err)
			}
			continue
		}
		if err != nil || m.name() != tc.want {
			t.Errorf("pick(%q) = %v, %v; want %s", tc.quant, m.files, err, tc.want)
		}
	}
}

// TestPickIncompleteIsDeterministic checks that when several incomplete split
// sets match, the error always names the same one (the first by name), not
// whichever a map iteration happens to give.
func TestPickIncompleteIsDeterministic(t *testing.T) {
	listing := []string{
		"a/m-Q4_K-00001-of-00002.gguf", "b/m-Q4_K-00001-of-00003.gguf",
		"c/m-Q4_K-00002-of-00004.gguf", "d/m-Q4_K-00001-of-00005.gguf",
	}
	const want = "a/m-Q4_K-00001-of-00002.gguf: 1 of 2 parts missing"
	for range 50 {
		_, err := pick(Ref{Repo: "o/r", Quant: "Q4_K"}, listing)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), want) {
			t.Fatalf("pick = %v; want ErrNotFound naming %q", err, want)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"Qwen/Qwen3-0.6B-GGUF:Q8_0", "org/repo/dir/m-00001-of-00002.gguf@v1", "org/repo@refs/pr/1",
		"org/repo/../x", "org/repo:UD-Q4_K_XL@" + commitA, "a/b/c@d.gguf", "/etc/passwd", "org/repo//x",
	} {
		f.Add(s)
	}
	c := cache{root: "/cache"}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRef) {
				t.Fatalf("ParseRef(%q): error %v is not ErrInvalidRef", s, err)
			}
			return
		}
		if err := ValidateRepoID(r.Repo); err != nil {
			t.Fatalf("ParseRef(%q) accepted repo %q: %v", s, r.Repo, err)
		}
		if r.File != "" && r.Quant != "" {
			t.Fatalf("ParseRef(%q) = %+v: both file and quant", s, r)
		}
		again, err := ParseRef(r.String())
		if err != nil || again != r {
			t.Fatalf("ParseRef(%q) = %+v; String %q re-parses to %+v, %v", s, r, r.String(), again, err)
		}
		// Every path the reference can produce stays inside the cache.
		repoDir := c.repoDir(r.Repo)
		if filepath.Dir(repoDir) != c.root {
			t.Fatalf("repo dir %s not directly under the cache", repoDir)
		}
		if r.File != "" {
			files, err := modelFiles(r.File)
			if err != nil {
				return
			}
			for _, file := range files {
				p, err := c.pointerPath(r.Repo, commitA, file)
				if err != nil {
					t.Fatalf("pointerPath(%q): %v", file, err)
				}
				if !strings.HasPrefix(p, repoDir+"/snapshots/"+commitA+"/") {
					t.Fatalf("file %q maps to %s, outside the snapshot", file, p)
				}
			}
		}
		if r.Revision != "" {
			p, err := c.refPath(r.Repo, r.Revision)
			if err != nil || !strings.HasPrefix(p, repoDir+"/refs/") {
				t.Fatalf("revision %q maps to %s, %v", r.Revision, p, err)
			}
		}
	})
}

// FuzzPick feeds server-sent listings (newline-separated names) to the
// model selection: it must never panic, and whatever it picks must be a
// valid repository path that carries the quantization.
func FuzzPick(f *testing.F) {
	f.Add("m-Q8_0.gguf\nm-Q4_K_M.gguf", "Q8_0")
	f.Add("a/m-Q2_K-00001-of-00002.gguf\na/m-Q2_K-00002-of-00002.gguf\n../x-Q2_K.gguf", "q2_k")
	f.Add("mmproj-F16.gguf\nm-BF16.gguf\nm-F16.gguf", "F16")
	f.Fuzz(func(t *testing.T, list, quant string) {
		if validateQuant(quant) != nil {
			quant = ""
		}
		m, err := pick(Ref{Repo: "o/r", Quant: quant}, strings.Split(list, "\n"))
		if err != nil {
			if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrAmbiguous) {
				t.Fatalf("pick: unexpected error kind %v", err)
			}
			return
		}
		if len(m.files) == 0 {
			t.Fatal("pick returned no files")
		}
		for _, file := range m.files {
			if err := ValidateRepoPath(file); err != nil {
				t.Fatalf("picked invalid path %q: %v", file, err)
			}
		}
		if quant != "" && !matchQuant(m.name(), quant) {
			t.Fatalf("picked %q for quant %q", m.name(), quant)
		}
	})
}

// FuzzParseMeta feeds hostile header values to the metadata parser: it must
// never panic, and what it accepts must be safe to use as cache names.
func FuzzParseMeta(f *testing.F) {
	f.Add(commitA, `"`+strings.Repeat("ab", 32)+`"`, "", "123")
	f.Add("../../x", `W/"abc"`, `"..\x00"`, "-1")
	f.Fuzz(func(t *testing.T, commit, etag, linked, size string) {
		h := http.Header{}
		h.Set(headerRepoCommit, commit)
		h.Set("ETag", etag)
		h.Set(headerLinkedEtag, linked)
		h.Set(headerLinkedSize, size)
		m, err := parseMeta(h, "main", &url.URL{Scheme: "https", Host: "h"})
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !isCommit(m.commit) || !isHash(m.etag) || m.size < -1 {
			t.Fatalf("accepted %+v", m)
		}
		c := cache{root: "/cache"}
		if _, err := c.blobPath("o/r", m.etag); err != nil {
			t.Fatal(err)
		}
		if _, err := c.snapshotDir("o/r", m.commit); err != nil {
			t.Fatal(err)
		}
	})
}
