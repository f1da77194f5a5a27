// This file resolves model references to local files, for the daemon and
// the one-shot commands alike: a hub reference (org/repo:QUANT,
// org/repo/file.gguf[@revision]) through the hub client and its cache
// (downloading when allowed), a local path as it is. The daemon resolves
// local paths only inside its model directories, and answers "missing",
// "outside the allowed directories" and "unreadable" with one error, so
// that the load endpoint cannot be used to learn what files exist.

package manager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/helexa/helexa/hub"
)

// ErrModelNotFound reports a reference that names no model this process may
// load. Its message never says whether a file exists.
var ErrModelNotFound = errors.New("manager: model not found")

// AnyDir in a model-directory list allows local paths anywhere.
const AnyDir = "*"

// Resolver turns model references into local files.
type Resolver struct {
	hub    *hub.Client // nil when it could not be made (hubErr says why)
	hubErr error
	// dirs are the directories local paths must lie in (symlinks
	// resolved); nil with anyDir allows any path.
	dirs   []string
	anyDir bool
}

// NewResolver makes a resolver with hub options o, allowing local files in
// dirs (AnyDir allows any path) and in the hub cache.
func NewResolver(o hub.Options, dirs []string) *Resolver {
	r := &Resolver{}
	r.hub, r.hubErr = hub.New(o)
	for _, d := range dirs {
		if d == AnyDir {
			r.anyDir = true
			continue
		}
		r.dirs = append(r.dirs, realDir(d))
	}
	if r.hub != nil {
		r.dirs = append(r.dirs, realDir(r.hub.CacheDir()))
	}
	return r
}

// Hub returns the hub client, or nil and why it could not be made.
func (r *Resolver) Hub() (*hub.Client, error) { return r.hub, r.hubErr }

// Dirs lists the directories local models may be loaded from (AnyDir
// first when any path is allowed).
func (r *Resolver) Dirs() []string {
	if r.anyDir {
		return append([]string{AnyDir}, r.dirs...)
	}
	return append([]string(nil), r.dirs...)
}

// realDir is a directory's absolute path with symlinks resolved (as far as
// it exists).
func realDir(d string) string {
	d = expandHome(d)
	if abs, err := filepath.Abs(d); err == nil {
		d = abs
	}
	if real, err := filepath.EvalSymlinks(d); err == nil {
		d = real
	}
	return filepath.Clean(d)
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[2:])
		}
	}
	return p
}

// IsLocalRef reports whether ref is written as a file-system path, or names an
// existing one.
func IsLocalRef(ref string) bool {
	if filepath.IsAbs(ref) || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") || strings.HasPrefix(ref, "~") {
		return true
	}
	_, err := os.Lstat(ref)
	return err == nil
}

// notFound is the one answer for a local path that is missing, outside the
// allowed directories or unreadable.
func notFound(ref string) error {
	return fmt.Errorf("%w: %q is not a model file in the allowed model directories", ErrModelNotFound, ref)
}

// Resolve returns the local file of ref. Hub errors keep their hub
// sentinels (hub.ErrNotFound, hub.ErrOffline, ...); a local path outside
// the allowed directories, missing or unreadable is ErrModelNotFound.
func (r *Resolver) Resolve(ctx context.Context, ref string) (string, error) {
	if IsLocalRef(ref) {
		return r.local(ref)
	}
	if r.hub == nil {
		return "", fmt.Errorf("%w: %q is not a local file and the hub client is unavailable: %w", ErrModelNotFound, ref, r.hubErr)
	}
	p, err := r.hub.Resolve(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("model %q: %w", ref, err)
	}
	return p, nil
}

// local checks a local path: inside the allowed directories (after
// following symlinks) and present.
func (r *Resolver) local(ref string) (string, error) {
	abs, err := filepath.Abs(expandHome(ref))
	if err != nil {
		return "", notFound(ref)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if r.anyDir { // the caller may look anywhere: say what is wrong
			return "", fmt.Errorf("%w: local file %q does not exist", ErrModelNotFound, ref)
		}
		return "", notFound(ref)
	}
	if !r.allowed(real) {
		return "", notFound(ref)
	}
	if _, err := os.Stat(real); err != nil {
		return "", notFound(ref)
	}
	return real, nil // the checked file, not a link that could be swapped
}

// allowed reports whether a resolved path lies in an allowed directory.
func (r *Resolver) allowed(real string) bool {
	if r.anyDir {
		return true
	}
	for _, d := range r.dirs {
		if rel, err := filepath.Rel(d, real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return true
		}
	}
	return false
}
