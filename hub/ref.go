// This file holds the model-reference grammar and the validation of every
// name that ends up in a URL or a cache path: repository ids (Hugging Face's
// own rules), revisions, file paths inside a repository and quantization tags.

package hub

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultRevision is the revision used when a reference names none, as on the
// hub.
const DefaultRevision = "main"

// Limits on the parts of a reference. maxRepoName is Hugging Face's own limit
// (huggingface_hub validate_repo_id: "between 1 and 96 characters"); the
// others are ours, generous for real names and small enough to keep paths
// and error messages bounded.
const (
	maxRepoName   = 96
	maxRefLen     = 4096
	maxRevision   = 256
	maxRepoPath   = 1024
	maxPathSegLen = 255 // NAME_MAX on Linux and most file systems
	maxQuantLen   = 64
)

// ErrInvalidRef reports a malformed model reference, repository id, revision
// or file name (errors.Is).
var ErrInvalidRef = errors.New("hub: invalid reference")

// Ref is a parsed hub model reference. Exactly one of File and Quant is set,
// or neither (the repository's only GGUF model is meant).
type Ref struct {
	Repo     string // "org/name", validated by ValidateRepoID
	File     string // path inside the repository, "/"-separated, e.g. "Qwen3-0.6B-Q8_0.gguf"
	Quant    string // quantization tag, e.g. "Q8_0", matched case-insensitively
	Revision string // branch, tag or commit; "" means DefaultRevision
}

// ParseRef parses a hub model reference:
//
//	org/repo/path/in/repo.gguf[@revision]
//	org/repo:QUANT[@revision]
//	org/repo[@revision]
//
// The revision is whatever follows the last '@', unless that text ends in
// ".gguf" (then the '@' belongs to the file name). ParseRef does not look at
// the local file system; Client.Resolve tries a local path first.
func ParseRef(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Ref{}, fmt.Errorf("%w: empty reference", ErrInvalidRef)
	}
	if len(s) > maxRefLen {
		return Ref{}, fmt.Errorf("%w: reference longer than %d bytes", ErrInvalidRef, maxRefLen)
	}
	orig := s
	var r Ref
	if i := strings.LastIndexByte(s, '@'); i >= 0 && !strings.HasSuffix(strings.ToLower(s[i+1:]), ".gguf") {
		r.Revision = s[i+1:]
		s = s[:i]
		if err := ValidateRevision(r.Revision); err != nil {
			return Ref{}, fmt.Errorf("%w (in %q)", err, orig)
		}
	}
	slash := strings.IndexByte(s, '/')
	if slash < 0 {
		return Ref{}, fmt.Errorf("%w: %q: expected org/repo, org/repo:QUANT or org/repo/file.gguf", ErrInvalidRef, orig)
	}
	rest := s[slash+1:]
	name := rest
	if j := strings.IndexAny(rest, "/:"); j >= 0 {
		name = rest[:j]
		switch rest[j] {
		case '/':
			r.File = rest[j+1:]
			if err := ValidateRepoPath(r.File); err != nil {
				return Ref{}, fmt.Errorf("%w (in %q)", err, orig)
			}
		case ':':
			r.Quant = rest[j+1:]
			if err := validateQuant(r.Quant); err != nil {
				return Ref{}, fmt.Errorf("%w (in %q)", err, orig)
			}
		}
	}
	r.Repo = s[:slash] + "/" + name
	if err := ValidateRepoID(r.Repo); err != nil {
		return Ref{}, fmt.Errorf("%w (in %q)", err, orig)
	}
	return r, nil
}

// String formats r in the grammar ParseRef reads.
func (r Ref) String() string {
	s := r.Repo
	switch {
	case r.File != "":
		s += "/" + r.File
	case r.Quant != "":
		s += ":" + r.Quant
	}
	if r.Revision != "" {
		s += "@" + r.Revision
	}
	return s
}

// rev returns the revision to ask the hub for.
func (r Ref) rev() string {
	if r.Revision == "" {
		return DefaultRevision
	}
	return r.Revision
}

// ValidateRepoID checks a repository id against Hugging Face's rules
// (huggingface_hub validate_repo_id): "namespace/name", each part made of
// ASCII letters, digits, '-', '_' and '.', starting and ending with a letter,
// digit or '_', the name at most 96 characters; "--" and ".." are forbidden
// and the id may not end in ".git". Unlike the hub we require the namespace:
// a bare name would be indistinguishable from a local file.
func ValidateRepoID(id string) error {
	ns, name, ok := strings.Cut(id, "/")
	if !ok || strings.Contains(name, "/") {
		return fmt.Errorf("%w: repo id %q: must be namespace/name", ErrInvalidRef, id)
	}
	if !validRepoPart(ns, maxRepoName) || !validRepoPart(name, maxRepoName) {
		return fmt.Errorf("%w: repo id %q: use letters, digits, '-', '_' or '.', not starting or ending with '-' or '.', at most %d characters each", ErrInvalidRef, id, maxRepoName)
	}
	if strings.Contains(id, "--") || strings.Contains(id, "..") {
		return fmt.Errorf("%w: repo id %q: \"--\" and \"..\" are forbidden", ErrInvalidRef, id)
	}
	if strings.HasSuffix(id, ".git") {
		return fmt.Errorf("%w: repo id %q: may not end in \".git\"", ErrInvalidRef, id)
	}
	return nil
}

// validRepoPart reports whether s matches Hugging Face's
// \b[\w\-.]{1,max}\b with ASCII \w.
func validRepoPart(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isWordChar(c) && c != '-' && c != '.' {
			return false
		}
	}
	return isWordChar(s[0]) && isWordChar(s[len(s)-1])
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// ValidateRevision checks a branch, tag or commit name. Revisions may contain
// '/' (refs/pr/1) and become a file under refs/ in the cache, so each
// '/'-separated segment must be a plain name: ASCII letters, digits, '-', '_'
// and '.', not starting with '.' and never "..".
func ValidateRevision(rev string) error {
	if rev == "" || len(rev) > maxRevision {
		return fmt.Errorf("%w: revision %q: must be 1 to %d characters", ErrInvalidRef, rev, maxRevision)
	}
	for _, seg := range strings.Split(rev, "/") {
		if seg == "" || seg[0] == '.' || strings.Contains(seg, "..") || strings.HasSuffix(seg, ".lock") {
			return fmt.Errorf("%w: revision %q: bad segment %q", ErrInvalidRef, rev, seg)
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; !isWordChar(c) && c != '-' && c != '.' {
				return fmt.Errorf("%w: revision %q: character %q not allowed", ErrInvalidRef, rev, c)
			}
		}
	}
	return nil
}

// ValidateRepoPath checks a file path inside a repository, whether it comes
// from a user or from the hub: relative, '/'-separated, no empty, "." or ".."
// segments, no backslashes, control characters or invalid UTF-8, bounded
// length. A path that passes stays inside the snapshot directory it is
// joined to.
func ValidateRepoPath(p string) error {
	if p == "" || len(p) > maxRepoPath {
		return fmt.Errorf("%w: file path %q: must be 1 to %d bytes", ErrInvalidRef, p, maxRepoPath)
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("%w: file path %q: invalid UTF-8", ErrInvalidRef, p)
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Errorf("%w: file path %q: character %q not allowed", ErrInvalidRef, p, c)
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || len(seg) > maxPathSegLen {
			return fmt.Errorf("%w: file path %q: bad segment %q", ErrInvalidRef, p, seg)
		}
	}
	return nil
}

// validateQuant checks a quantization tag such as "Q4_K_M" or "UD-Q4_K_XL".
func validateQuant(q string) error {
	if q == "" || len(q) > maxQuantLen {
		return fmt.Errorf("%w: quantization %q: must be 1 to %d characters", ErrInvalidRef, q, maxQuantLen)
	}
	alnum := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case isWordChar(c):
			alnum = alnum || c != '_'
		case c == '-' || c == '.':
		default:
			return fmt.Errorf("%w: quantization %q: character %q not allowed", ErrInvalidRef, q, c)
		}
	}
	if !alnum {
		return fmt.Errorf("%w: quantization %q: needs a letter or digit", ErrInvalidRef, q)
	}
	return nil
}
