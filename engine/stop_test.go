// Tests of the stop-string matcher: every way of splitting a text into two
// or three pieces gives the same emitted text, nothing of a stop string is
// ever emitted, and held-back text is released as soon as it cannot start a
// stop string.
package engine

import (
	"strings"
	"testing"
)

// wantStop returns the text up to the earliest stop string, and whether one
// occurs (the brute-force reference).
func wantStop(text string, stops []string) (string, bool) {
	best := -1
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(text, s); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return text, false
	}
	return text[:best], true
}

// safeLen is how much of fed may be emitted: all but the longest suffix that
// is a proper prefix of a stop string, and nothing from a complete stop
// string on.
func safeLen(fed string, stops []string) int {
	pre, _ := wantStop(fed, stops)
	hold := 0
	for _, s := range stops {
		for n := 1; n < len(s) && n <= len(fed); n++ {
			if strings.HasSuffix(fed, s[:n]) {
				hold = max(hold, n)
			}
		}
	}
	return min(len(pre), len(fed)-hold)
}

// feedPieces runs the matcher over pieces and checks, after every piece,
// that exactly the safe prefix has been emitted.
func feedPieces(t *testing.T, stops []string, pieces []string) (string, bool) {
	t.Helper()
	m := NewStopMatcher(stops)
	var out, fed strings.Builder
	stopped := false
	for _, p := range pieces {
		fed.WriteString(p)
		o, st := m.Feed(p)
		out.WriteString(o)
		if st {
			stopped = true
		}
		if want := fed.String()[:safeLen(fed.String(), stops)]; out.String() != want {
			t.Fatalf("pieces %q: after %q emitted %q, want %q", pieces, fed.String(), out.String(), want)
		}
	}
	out.WriteString(m.Flush())
	return out.String(), stopped
}

func TestStopMatcherSplits(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		stops []string
	}{
		{"no stops", "hello world", nil},
		{"simple", "hello world, goodbye", []string{"world"}},
		{"at start", "STOPafter", []string{"STOP"}},
		{"at end", "before STOP", []string{"STOP"}},
		{"absent", "nothing to see here", []string{"xyz"}},
		{"partial prefix at end released", "the end is ne", []string{"near"}},
		{"repeated prefix", "aaab", []string{"aab"}},
		{"overlapping candidates", "abcabd", []string{"abd", "bca"}},
		{"earliest wins", "one two three", []string{"three", "two"}},
		{"nested", "xxabcxx", []string{"abc", "b"}},
		{"multibyte", "température élevée ☃ fin", []string{"☃"}},
		{"special token text", "answer<|im_end|>more", []string{"<|im_end|>"}},
		{"newline stop", "line one\n\nline two", []string{"\n\n"}},
		{"empty stop ignored", "abc", []string{""}},
		{"stop longer than text", "ab", []string{"abcdef"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, wantStopped := wantStop(tc.text, tc.stops)
			n := len(tc.text)
			for i := 0; i <= n; i++ {
				for j := i; j <= n; j++ {
					got, stopped := feedPieces(t, tc.stops, []string{tc.text[:i], tc.text[i:j], tc.text[j:]})
					if got != want || stopped != wantStopped {
						t.Fatalf("split at %d,%d: got %q (stopped %v), want %q (stopped %v)", i, j, got, stopped, want, wantStopped)
					}
				}
			}
			// One byte at a time.
			pieces := make([]string, n)
			for i := range pieces {
				pieces[i] = tc.text[i : i+1]
			}
			if got, _ := feedPieces(t, tc.stops, pieces); got != want {
				t.Fatalf("byte by byte: got %q, want %q", got, want)
			}
		})
	}
}

func TestStopMatcherAfterStop(t *testing.T) {
	m := NewStopMatcher([]string{"x"})
	if out, st := m.Feed("abxcd"); out != "ab" || !st {
		t.Fatalf("Feed = %q, %v; want \"ab\", true", out, st)
	}
	if out, st := m.Feed("more"); out != "" || !st {
		t.Fatalf("Feed after stop = %q, %v; want \"\", true", out, st)
	}
	if f := m.Flush(); f != "" {
		t.Fatalf("Flush after stop = %q, want empty", f)
	}
	if !m.Stopped() {
		t.Fatal("Stopped() = false after a match")
	}
}

func FuzzStopMatcher(f *testing.F) {
	f.Add("hello world", "wor", 3, 7)
	f.Add("aaab", "aab", 1, 2)
	f.Add("<|im_end|>", "<|im_end|>", 2, 5)
	f.Fuzz(func(t *testing.T, text, stop string, i, j int) {
		if len(text) > 200 || len(stop) > 20 {
			return
		}
		n := len(text)
		i, j = min(max(i, 0), n), min(max(j, 0), n)
		if i > j {
			i, j = j, i
		}
		stops := []string{stop}
		want, _ := wantStop(text, stops)
		got, _ := feedPieces(t, stops, []string{text[:i], text[i:j], text[j:]})
		if got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
