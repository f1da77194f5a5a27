// This file holds the matcher for added and special tokens: they are found
// in the raw text before normalization and pre-tokenization, so that text
// such as "<|im_start|>" becomes one id and never goes through BPE.

package tokenizer

import (
	"sort"
	"strings"
)

// specialMatcher finds added tokens in text. At each position it takes the
// longest added token that starts there (leftmost-longest, as Hugging Face
// tokenizers' added-vocabulary matcher does).
type specialMatcher struct {
	byFirst [256][]int32 // ids of added tokens by first byte, longest first
	tokens  []string
	any     bool
}

func newSpecialMatcher(tokens []string, ids []int32) specialMatcher {
	m := specialMatcher{tokens: tokens, any: len(ids) > 0}
	for _, id := range ids {
		c := tokens[id][0]
		m.byFirst[c] = append(m.byFirst[c], id)
	}
	for c := range m.byFirst {
		l := m.byFirst[c]
		sort.SliceStable(l, func(i, j int) bool { return len(tokens[l[i]]) > len(tokens[l[j]]) })
	}
	return m
}

// split calls fn for each part of text in order: with id -1 for a run of
// ordinary text (never empty) and with the token's id for an added token.
func (m *specialMatcher) split(text string, fn func(seg string, id int32)) {
	if !m.any {
		if text != "" {
			fn(text, -1)
		}
		return
	}
	start := 0
	for i := 0; i < len(text); {
		id := m.matchAt(text, i)
		if id < 0 {
			i++
			continue
		}
		if start < i {
			fn(text[start:i], -1)
		}
		fn("", id)
		i += len(m.tokens[id])
		start = i
	}
	if start < len(text) {
		fn(text[start:], -1)
	}
}

func (m *specialMatcher) matchAt(text string, i int) int32 {
	for _, id := range m.byFirst[text[i]] {
		if strings.HasPrefix(text[i:], m.tokens[id]) {
			return id
		}
	}
	return -1
}
