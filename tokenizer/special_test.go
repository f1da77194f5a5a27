// This file tests the added-token matcher: leftmost-longest matching,
// tokens at the edges of the text and next to ordinary text.
package tokenizer

import (
	"fmt"
	"testing"
)

func TestSpecialMatcher(t *testing.T) {
	tokens := []string{"<a>", "<a><b>", "<b>", "x"}
	m := newSpecialMatcher(tokens, []int32{0, 1, 2})
	tests := []struct {
		in   string
		want string
	}{
		{"", ""},
		{"plain", "plain|"},
		{"<a>", "#0|"},
		{"<a><b>", "#1|"},
		{"<a><a><b>", "#0|#1|"},
		{"x<b>y<a", "x|#2|y<a|"},
		{"<<a>>", "<|#0|>|"},
		{"<a", "<a|"},
	}
	for _, tt := range tests {
		got := ""
		m.split(tt.in, func(seg string, id int32) {
			if id >= 0 {
				got += fmt.Sprintf("#%d|", id)
			} else {
				if seg == "" {
					t.Errorf("%q: empty ordinary segment", tt.in)
				}
				got += seg + "|"
			}
		})
		if got != tt.want {
			t.Errorf("split(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
