// Tests of JSON mode's validator: named prefixes that must stay valid or be
// rejected, byte-at-a-time feeding against whole-input feeding, cloning,
// and a fuzz test against encoding/json.Valid on complete inputs.
package constrain

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestJSONValidatorPrefixes(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		valid    bool // a prefix of some JSON object text
		complete bool
	}{
		{"empty", "", true, false},
		{"leading whitespace", " \t\r\n", true, false},
		{"open brace", "{", true, false},
		{"empty object", "{}", true, true},
		{"empty object spaced", " { } ", true, true},
		{"trailing newline", "{}\n", true, true},
		{"trailing garbage", "{}x", false, false},
		{"second object", "{}{}", false, false},
		{"trailing comma after close", "{},", false, false},
		{"top-level array", "[]", false, false},
		{"top-level string", `"a"`, false, false},
		{"top-level number", "1", false, false},
		{"top-level literal", "true", false, false},
		{"key", `{"a"`, true, false},
		{"key colon", `{"a":`, true, false},
		{"member", `{"a": 1}`, true, true},
		{"two members", `{"a": 1, "b": [true, false, null]}`, true, true},
		{"unquoted key", `{a: 1}`, false, false},
		{"missing colon", `{"a" 1}`, false, false},
		{"missing value", `{"a": }`, false, false},
		{"trailing comma in object", `{"a": 1,}`, false, false},
		{"trailing comma in array", `{"a": [1,]}`, false, false},
		{"leading comma in array", `{"a": [,1]}`, false, false},
		{"empty array", `{"a": []}`, true, true},
		{"nested", `{"a": {"b": {"c": [[{}], []]}}}`, true, true},
		{"mismatched close", `{"a": [1}`, false, false},
		{"extra close", `{"a": 1}}`, false, false},
		{"escapes", `{"s": "\"\\\/\b\f\n\r\t"}`, true, true},
		{"unicode escape", `{"s": "\u00e9\uD83D\uDE00"}`, true, true},
		{"unicode escape prefix", `{"s": "\u00`, true, false},
		{"short unicode escape", `{"s": "\u00"}`, false, false},
		{"bad unicode escape", `{"s": "\u00g0"}`, false, false},
		{"bad escape", `{"s": "\x"}`, false, false},
		{"raw newline in string", "{\"s\": \"a\nb\"}", false, false},
		{"raw tab in string", "{\"s\": \"a\tb\"}", false, false},
		{"utf-8 in string", `{"s": "héllo 世界 😀"}`, true, true},
		{"utf-8 lead cut", "{\"s\": \"\xe4\xb8", true, false},
		{"stray continuation", "{\"s\": \"\x80\"}", false, false},
		{"overlong", "{\"s\": \"\xc0\xaf\"}", false, false},
		{"surrogate", "{\"s\": \"\xed\xa0\x80\"}", false, false},
		{"above U+10FFFF", "{\"s\": \"\xf4\x90\x80\x80\"}", false, false},
		{"zero", `{"n": 0}`, true, true},
		{"negative", `{"n": -12}`, true, true},
		{"fraction", `{"n": 3.25}`, true, true},
		{"exponent", `{"n": 1e10}`, true, true},
		{"exponent signs", `{"n": [1E+2, -0.5e-3, 0e0]}`, true, true},
		{"leading zero", `{"n": 01}`, false, false},
		{"minus alone", `{"n": -}`, false, false},
		{"plus sign", `{"n": +1}`, false, false},
		{"dot without digits", `{"n": 1.}`, false, false},
		{"leading dot", `{"n": .5}`, false, false},
		{"exponent without digits", `{"n": 1e}`, false, false},
		{"exponent sign without digits", `{"n": 1e+}`, false, false},
		{"number prefix", `{"n": -0.5e`, true, false},
		{"number then space", `{"n": 12 , "m": 3}`, true, true},
		{"literal prefix", `{"b": tr`, true, false},
		{"bad literal", `{"b": trux}`, false, false},
		{"capital literal", `{"b": True}`, false, false},
		{"nan", `{"n": NaN}`, false, false},
		{"single quotes", `{'a': 1}`, false, false},
		{"nbsp whitespace", "{\u00a0}", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var whole JSONValidator
			valid := whole.Feed([]byte(tc.in))
			if valid != tc.valid {
				t.Fatalf("Feed(%q) = %v, want %v", tc.in, valid, tc.valid)
			}
			if valid && whole.Complete() != tc.complete {
				t.Fatalf("Complete() after %q = %v, want %v", tc.in, whole.Complete(), tc.complete)
			}
			// Byte by byte, through Accepts first: the same verdict.
			var v JSONValidator
			ok := true
			for i := 0; i < len(tc.in) && ok; i++ {
				b := []byte{tc.in[i]}
				before := v
				acc := v.Accepts(b)
				if v != before {
					t.Fatalf("Accepts changed the state at byte %d", i)
				}
				ok = v.Feed(b)
				if acc != ok {
					t.Fatalf("byte %d: Accepts %v, Feed %v", i, acc, ok)
				}
			}
			if ok != tc.valid {
				t.Fatalf("byte-wise verdict %v, want %v", ok, tc.valid)
			}
			// A complete input that we accept must be valid JSON for
			// encoding/json too.
			if tc.complete && !json.Valid([]byte(tc.in)) {
				t.Fatalf("%q complete here but not json.Valid", tc.in)
			}
		})
	}
}

func TestJSONValidatorDepth(t *testing.T) {
	var v JSONValidator
	in := `{"a":` + strings.Repeat("[", JSONMaxDepth-1)
	if !v.Feed([]byte(in)) {
		t.Fatalf("nesting of %d rejected", JSONMaxDepth)
	}
	if v.Depth() != JSONMaxDepth {
		t.Fatalf("depth %d, want %d", v.Depth(), JSONMaxDepth)
	}
	if v.Accepts([]byte("[")) {
		t.Fatalf("nesting beyond %d accepted", JSONMaxDepth)
	}
	if !v.Feed([]byte(strings.Repeat("]", JSONMaxDepth-1)+"}")) || !v.Complete() {
		t.Fatal("closing the deepest nesting failed")
	}
}

func TestJSONValidatorNoAlloc(t *testing.T) {
	var v JSONValidator
	v.Feed([]byte(`{"key": [1, 2, {"x": "`))
	tok := []byte(`abc", "y": 3.5e2}`)
	allocs := testing.AllocsPerRun(100, func() {
		if !v.Accepts(tok) {
			t.Fatal("rejected")
		}
	})
	if allocs != 0 {
		t.Fatalf("Accepts allocated %.1f times per call", allocs)
	}
}

// FuzzJSONValidator checks the validator against encoding/json.Valid: on a
// well-formed UTF-8 input whose first non-space byte is '{', it accepts the
// input as a complete object exactly when json.Valid does (inputs nested
// deeper than JSONMaxDepth excepted), and every prefix of an input it
// accepts is accepted too.
func FuzzJSONValidator(f *testing.F) {
	for _, s := range []string{
		`{}`, ` {"a": 1} `, `{"a": [1, 2.5, -3e4, true, false, null, "x\u0041\n"]}`,
		`{"a": {"b": {}}}`, `{"a": 01}`, `{"a": "\ud800"}`, `{"a"}`, `{} x`, `{"é": "😀"}`,
		`{"a": 1.}`, `{"a": -}`, `{"a":[{"b":[]}],"c":0.0e-0}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var v JSONValidator
		ok := v.Feed(in)
		complete := ok && v.Complete()
		trimmed := strings.TrimLeft(string(in), " \t\r\n")
		if utf8.Valid(in) && strings.HasPrefix(trimmed, "{") {
			want := json.Valid(in)
			if complete != want && !(want && depthOf(in) > JSONMaxDepth) {
				t.Fatalf("%q: complete object %v, json.Valid %v", in, complete, want)
			}
		}
		if complete && !json.Valid(in) {
			t.Fatalf("%q: accepted as complete but not json.Valid", in)
		}
		if ok {
			for i := range in {
				var p JSONValidator
				if !p.Feed(in[:i]) {
					t.Fatalf("%q accepted but its prefix %q is not", in, in[:i])
				}
			}
		}
	})
}

// depthOf returns the deepest bracket nesting of in, ignoring brackets
// inside strings (a rough count, enough to excuse deep inputs).
func depthOf(in []byte) int {
	d, best, str, esc := 0, 0, false, false
	for _, c := range in {
		switch {
		case esc:
			esc = false
		case str && c == '\\':
			esc = true
		case c == '"':
			str = !str
		case !str && (c == '{' || c == '['):
			d++
			best = max(best, d)
		case !str && (c == '}' || c == ']'):
			d--
		}
	}
	return best
}

func TestJSONValidatorLimitSpace(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		valid bool
	}{
		{"runs at the limit", "    {    \"a\"    :    \"    \"    }    ", true},
		{"long run inside a string", `{"a": "` + strings.Repeat(" ", 50) + `"}`, true},
		{"long run before the object", strings.Repeat("\n", 5) + "{}", false},
		{"long run between tokens", "{\"a\":" + strings.Repeat(" \t", 3) + "1}", false},
		{"long run after a number", "{\"a\": 1" + strings.Repeat("\r", 5) + "}", false},
		{"long run after the object", "{}" + strings.Repeat(" ", 5), false},
		{"runs reset by tokens", "{ \n\t\"a\" \n\t: \n\t[ \n\t1 \n\t] \n\t} \n\t", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v JSONValidator
			v.LimitSpace(4)
			if got := v.Feed([]byte(tc.in)); got != tc.valid {
				t.Fatalf("Feed(%q) with runs of at most 4 = %v, want %v", tc.in, got, tc.valid)
			}
			var free JSONValidator
			if !free.Feed([]byte(tc.in)) {
				t.Fatalf("Feed(%q) without a bound rejected", tc.in)
			}
		})
	}
}

func BenchmarkJSONValidator(b *testing.B) {
	doc := []byte(`{"name": "Widget", "tags": ["a", "b\u00e9", "c\n"], "price": -12.5e3, "ok": true, "none": null, ` +
		`"nested": {"x": [1, 2, 3, {"y": "` + strings.Repeat("text ", 100) + `"}]}}`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		var v JSONValidator
		if !v.Feed(doc) || !v.Complete() {
			b.Fatal("rejected")
		}
	}
}
