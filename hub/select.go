// This file picks the GGUF model a reference means out of a repository's file
// list: split-file naming (llama.cpp's "-%05d-of-%05d.gguf"), the match of a
// quantization tag against file names, and the candidate lists that make
// ambiguous or missing matches readable.

package hub

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// maxSplitParts bounds how many parts a split GGUF may name before we refuse
// to download it; llama.cpp's naming allows five digits, real models use a
// few dozen at most.
const maxSplitParts = 1000

// ErrAmbiguous reports a reference that matches several models; the error
// lists them (errors.Is).
var ErrAmbiguous = errors.New("hub: ambiguous reference")

// splitName describes a file named like llama.cpp's split GGUFs,
// "{prefix}-{k:05d}-of-{n:05d}.gguf".
type splitName struct {
	prefix string // everything before "-00001-of-0000N.gguf", directories included
	part   int    // 1-based
	count  int
}

// parseSplit reports whether name is a split-GGUF part.
func parseSplit(name string) (splitName, bool) {
	const tail = len("-00001-of-00003.gguf")
	if len(name) <= tail || !strings.EqualFold(name[len(name)-5:], ".gguf") {
		return splitName{}, false
	}
	t := name[len(name)-tail:]
	if t[0] != '-' || t[6:10] != "-of-" {
		return splitName{}, false
	}
	k, err1 := strconv.Atoi(t[1:6])
	n, err2 := strconv.Atoi(t[10:15])
	if err1 != nil || err2 != nil || !allDigits(t[1:6]) || !allDigits(t[10:15]) || k < 1 || n < 1 || k > n {
		return splitName{}, false
	}
	return splitName{prefix: name[:len(name)-tail], part: k, count: n}, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// partName returns the name of part k (1-based) of s.
func (s splitName) partName(k int) string {
	return fmt.Sprintf("%s-%05d-of-%05d.gguf", s.prefix, k, s.count)
}

// modelFiles expands a GGUF file name to every file of its model: all parts,
// in order, for a split GGUF, else the file itself.
func modelFiles(name string) ([]string, error) {
	s, ok := parseSplit(name)
	if !ok {
		return []string{name}, nil
	}
	if s.count > maxSplitParts {
		return nil, fmt.Errorf("%w: %q: %d parts, at most %d supported", ErrInvalidRef, name, s.count, maxSplitParts)
	}
	parts := make([]string, s.count)
	for k := range parts {
		parts[k] = s.partName(k + 1)
	}
	return parts, nil
}

// candidate is one model in a repository: a single GGUF file or a complete
// split set.
type candidate struct {
	files []string // in part order; files[0] is what Resolve returns
}

func (c candidate) name() string { return c.files[0] }

// isGGUF reports whether a repository file is a GGUF model weights file we
// may pick; multimodal projectors (mmproj*) are never the model.
func isGGUF(p string) bool {
	base := p[strings.LastIndexByte(p, '/')+1:]
	return strings.HasSuffix(strings.ToLower(base), ".gguf") && !strings.HasPrefix(strings.ToLower(base), "mmproj")
}

// candidates groups a repository listing into models. Names that fail
// ValidateRepoPath are dropped: they could never be stored safely. Split
// sets with a missing part are reported as errors only if they are picked,
// so they are returned with the parts the listing holds marked by missing.
func candidates(listing []string) (models []candidate, incomplete map[string]string) {
	present := make(map[string]bool, len(listing))
	for _, p := range listing {
		if ValidateRepoPath(p) == nil && isGGUF(p) {
			present[p] = true
		}
	}
	incomplete = map[string]string{}
	seen := map[string]bool{}
	for p := range present {
		s, ok := parseSplit(p)
		if !ok {
			models = append(models, candidate{files: []string{p}})
			continue
		}
		first := s.partName(1)
		if seen[first] {
			continue
		}
		seen[first] = true
		files, err := modelFiles(first)
		if err != nil {
			incomplete[first] = err.Error()
			continue
		}
		missing := 0
		for _, f := range files {
			if !present[f] {
				missing++
			}
		}
		if missing > 0 {
			incomplete[first] = fmt.Sprintf("%d of %d parts missing", missing, s.count)
			continue
		}
		models = append(models, candidate{files: files})
	}
	sort.Slice(models, func(i, j int) bool { return models[i].name() < models[j].name() })
	return models, incomplete
}

// matchQuant reports whether a GGUF file name carries the quantization tag q,
// case-insensitively, as a whole tag: the character before it is not a letter
// or digit ("F16" does not match "BF16") and the one after it is not a letter,
// digit or '_' ("Q4_K" does not match "Q4_K_M").
func matchQuant(name, q string) bool {
	if s, ok := parseSplit(name); ok {
		name = s.prefix
	} else if strings.HasSuffix(strings.ToLower(name), ".gguf") {
		name = name[:len(name)-5]
	}
	ln, lq := strings.ToLower(name), strings.ToLower(q)
	for off := 0; ; {
		i := strings.Index(ln[off:], lq)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(lq)
		before := i == 0 || !isAlnum(ln[i-1])
		after := end == len(ln) || !isWordChar(ln[end])
		if before && after {
			return true
		}
		off = i + 1
	}
}

func isAlnum(c byte) bool { return isWordChar(c) && c != '_' }

// pick chooses the model a reference means from a repository listing: the
// one matching r.Quant, or with no quantization given, the only GGUF model.
func pick(r Ref, listing []string) (candidate, error) {
	models, incomplete := candidates(listing)
	var matched []candidate
	for _, m := range models {
		if r.Quant == "" || matchQuant(m.name(), r.Quant) {
			matched = append(matched, m)
		}
	}
	if len(matched) == 1 {
		return matched[0], nil
	}
	for _, first := range slices.Sorted(maps.Keys(incomplete)) {
		if r.Quant == "" || matchQuant(first, r.Quant) {
			return candidate{}, errorOf(ErrNotFound, "hub: %s: split model %s: %s", r, first, incomplete[first])
		}
	}
	if len(matched) > 1 {
		return candidate{}, errorOf(ErrAmbiguous, "hub: %s is ambiguous, it matches %d models: %s; name one with org/repo/FILE.gguf or a longer quantization", r, len(matched), listNames(matched))
	}
	if len(models) == 0 {
		return candidate{}, errorOf(ErrNotFound, "hub: %s: the repository has no GGUF files", r)
	}
	return candidate{}, errorOf(ErrNotFound, "hub: %s: no GGUF file carries quantization %q; available: %s", r, r.Quant, listNames(models))
}

// listNames formats candidate names for an error, bounded so a huge
// repository does not produce a huge message.
func listNames(ms []candidate) string {
	const show = 20
	var b strings.Builder
	for i, m := range ms {
		if i == show {
			fmt.Fprintf(&b, ", ... and %d more", len(ms)-show)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.name())
		if len(m.files) > 1 {
			fmt.Fprintf(&b, " (%d parts)", len(m.files))
		}
	}
	return b.String()
}
