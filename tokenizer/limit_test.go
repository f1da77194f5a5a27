// Tests of EncodeLimit: the same ids as Encode up to the limit, and a stop
// just past it.

package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

func TestEncodeLimit(t *testing.T) {
	tk := fuzzTokenizer(t)
	text := strings.Repeat("Hello, world! <|im_start|> héllo 123 ", 50)
	all := tk.Encode(text)
	for _, limit := range []int{1, 10, len(all) - 1, len(all), len(all) + 5, 0} {
		ids, over := tk.EncodeLimit(text, limit)
		switch {
		case limit <= 0 || limit >= len(all):
			if over || !slices.Equal(ids, all) {
				t.Errorf("limit %d: over %v, %d ids, want all %d", limit, over, len(ids), len(all))
			}
		default:
			if !over || len(ids) <= limit || !slices.Equal(ids, all[:len(ids)]) {
				t.Errorf("limit %d: over %v, %d ids, want a prefix longer than the limit", limit, over, len(ids))
			}
			if len(ids) > limit+64 {
				t.Errorf("limit %d: went on to %d ids", limit, len(ids))
			}
		}
	}
}
