// This file maps the Hugging Face cache layout, shared with huggingface_hub
// and llama.cpp:
//
//	{root}/models--{org}--{name}/blobs/{etag}                 file contents, named by their hash
//	{root}/models--{org}--{name}/snapshots/{commit}/{path}    relative symlink to the blob
//	{root}/models--{org}--{name}/refs/{revision}              the commit hash a revision pointed to
//	{root}/.locks/models--{org}--{name}/{etag}.lock           held while a blob is being written
//
// Every path built here is checked to stay inside the root, and every name
// in it (repo id, revision, file path, commit, etag) is validated first, so
// neither a reference nor a value sent by a server can reach outside.

package hub

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// cache is a hub cache rooted at an absolute, clean directory.
type cache struct {
	root string
}

// repoFolder is the directory name huggingface_hub gives a model repository.
func repoFolder(repo string) string {
	return "models--" + strings.ReplaceAll(repo, "/", "--")
}

func (c cache) repoDir(repo string) string { return filepath.Join(c.root, repoFolder(repo)) }

// inside joins elems under base and checks that the result stays inside it.
func inside(base string, elems ...string) (string, error) {
	p := filepath.Join(append([]string{base}, elems...)...)
	if !within(base, p) {
		return "", fmt.Errorf("%w: path %q leaves %s", ErrInvalidRef, filepath.Join(elems...), base)
	}
	return p, nil
}

// within reports whether p lies strictly below the directory base. A path
// that cannot be expressed relative to base (another volume) is not.
func within(base, p string) bool {
	rel, err := filepath.Rel(base, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func (c cache) blobPath(repo, etag string) (string, error) {
	if !isHash(etag) {
		return "", fmt.Errorf("%w: blob name %q is not a hash", ErrInvalidRef, etag)
	}
	return inside(c.root, repoFolder(repo), "blobs", etag)
}

func (c cache) lockPath(repo, etag string) (string, error) {
	if !isHash(etag) {
		return "", fmt.Errorf("%w: blob name %q is not a hash", ErrInvalidRef, etag)
	}
	return inside(c.root, ".locks", repoFolder(repo), etag+".lock")
}

func (c cache) snapshotDir(repo, commit string) (string, error) {
	if !isCommit(commit) {
		return "", fmt.Errorf("%w: commit %q is not a 40-digit hex hash", ErrInvalidRef, commit)
	}
	return inside(c.root, repoFolder(repo), "snapshots", commit)
}

func (c cache) pointerPath(repo, commit, file string) (string, error) {
	if err := ValidateRepoPath(file); err != nil {
		return "", err
	}
	dir, err := c.snapshotDir(repo, commit)
	if err != nil {
		return "", err
	}
	return inside(dir, filepath.FromSlash(file))
}

func (c cache) refPath(repo, rev string) (string, error) {
	if err := ValidateRevision(rev); err != nil {
		return "", err
	}
	return inside(c.root, repoFolder(repo), "refs", filepath.FromSlash(rev))
}

// readRef returns the commit a revision resolved to when it was last
// fetched; a revision that is itself a commit hash is returned as is.
func (c cache) readRef(repo, rev string) (string, error) {
	if isCommit(rev) {
		return rev, nil
	}
	p, err := c.refPath(repo, rev)
	if err != nil {
		return "", err
	}
	b, err := readSmall(p, 256)
	if err != nil {
		return "", err
	}
	commit := strings.TrimSpace(string(b))
	if !isCommit(commit) {
		return "", fmt.Errorf("hub: %s: holds %q, not a commit hash", p, commit)
	}
	return commit, nil
}

// writeRef records that rev resolved to commit, atomically.
func (c cache) writeRef(repo, rev, commit string) error {
	if rev == commit {
		return nil
	}
	if !isCommit(commit) {
		return fmt.Errorf("%w: commit %q is not a 40-digit hex hash", ErrInvalidRef, commit)
	}
	p, err := c.refPath(repo, rev)
	if err != nil {
		return err
	}
	if old, err := readSmall(p, 256); err == nil && strings.TrimSpace(string(old)) == commit {
		return nil
	}
	return writeFileAtomic(p, []byte(commit))
}

// readSmall reads a file of at most max bytes.
func readSmall(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("hub: %s: %d bytes, expected at most %d", p, fi.Size(), max)
	}
	b := make([]byte, fi.Size())
	_, err = f.ReadAt(b, 0)
	if err != nil && fi.Size() > 0 {
		return nil, err
	}
	return b, nil
}

// writeFileAtomic writes data to a temporary file next to p and renames it
// over p, creating parent directories.
func writeFileAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-*")
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}

// link makes the snapshot pointer a relative symlink to the blob, as
// huggingface_hub does, replacing whatever was there. Where symlinks are
// not supported it falls back to a hard link.
func link(blob, pointer string) error {
	if err := os.MkdirAll(filepath.Dir(pointer), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	rel, err := filepath.Rel(filepath.Dir(pointer), blob)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	// A name of its own per call: several resolvers may link the same
	// pointer at once (the blob lock is not held here).
	tmp := pointer + ".tmp-link-" + rand.Text()
	if err := os.Symlink(rel, tmp); err != nil {
		if err := os.Link(blob, tmp); err != nil {
			return fmt.Errorf("hub: linking %s to %s: %w", pointer, blob, err)
		}
	}
	if err := os.Rename(tmp, pointer); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}

// errNotCached marks a reference the cache cannot serve (errors.Is); the
// message is the missingError's detail.
var errNotCached = errors.New("not in the cache")

// missingError says what is missing from the cache.
type missingError struct{ detail string }

func (e *missingError) Error() string        { return e.detail }
func (e *missingError) Is(target error) bool { return target == errNotCached }

func missing(format string, args ...any) error {
	return &missingError{detail: fmt.Sprintf(format, args...)}
}

// cachedFiles returns the snapshot paths of files, all of which must be in
// the cache (their blobs included) and resolve inside it.
func (c cache) cachedFiles(repo, commit string, files []string) ([]string, error) {
	out := make([]string, len(files))
	for i, f := range files {
		p, err := c.pointerPath(repo, commit, f)
		if err != nil {
			return nil, err
		}
		if err := c.checkInside(p); err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// checkInside checks that p exists and, symlinks followed, is a regular file
// inside the cache root.
func (c cache) checkInside(p string) error {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return missing("%s is missing", p)
		}
		return fmt.Errorf("hub: %w", err)
	}
	root, err := filepath.EvalSymlinks(c.root)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if !within(root, real) {
		return fmt.Errorf("hub: %s resolves to %s, outside the cache %s", p, real, c.root)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("hub: %s is not a regular file", p)
	}
	return nil
}

// snapshotFiles lists the files of a cached snapshot as repository paths.
func (c cache) snapshotFiles(repo, commit string) ([]string, error) {
	dir, err := c.snapshotDir(repo, commit)
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.Contains(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, missing("no snapshot %s", dir)
		}
		return nil, fmt.Errorf("hub: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// lookup resolves r from the cache alone: the revision through refs/, then
// the file (all parts of a split GGUF) or the quantization's match among the
// snapshot's files. It returns the local paths in part order.
func (c cache) lookup(r Ref) ([]string, error) {
	commit, err := c.readRef(r.Repo, r.rev())
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, missing("no refs/%s (revision never downloaded)", r.rev())
		}
		return nil, err
	}
	var files []string
	if r.File != "" {
		if files, err = modelFiles(r.File); err != nil {
			return nil, err
		}
	} else {
		listing, err := c.snapshotFiles(r.Repo, commit)
		if err != nil {
			return nil, err
		}
		m, err := pick(r, listing)
		if err != nil {
			if errors.Is(err, ErrAmbiguous) {
				return nil, err
			}
			return nil, missing("%v", strings.TrimPrefix(err.Error(), "hub: "))
		}
		files = m.files
	}
	return c.cachedFiles(r.Repo, commit, files)
}

// isCommit reports whether s is a full git commit hash.
func isCommit(s string) bool { return len(s) == 40 && isLowerHex(s) }

// isHash reports whether s is a git blob sha1 (40 hex digits) or an LFS
// sha256 (64 hex digits), the two kinds of etag the hub sends.
func isHash(s string) bool { return (len(s) == 40 || len(s) == 64) && isLowerHex(s) }

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
