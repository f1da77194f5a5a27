// Tests for the Python-style JSON serializer. The expected strings are what
// CPython 3.11's json.dumps(json.loads(src), ensure_ascii=False) prints for
// each source; they were produced with CPython, not with this package.

package chat

import (
	"strings"
	"testing"
)

func TestPythonJSON(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"nested key order", `{"b":1,"a":[1,2.5,true,false,null],"c":{"x":"y"}}`,
			`{"b": 1, "a": [1, 2.5, true, false, null], "c": {"x": "y"}}`},
		{"repeated key keeps first position and last value", `{"a":1,"b":2,"a":3}`, `{"a": 3, "b": 2}`},
		{"string escapes", `"tab\there \u0001 \u001f \u007f quote\" back\\ slash\/ é 中 \ud83d\ude00 \u2028"`,
			"\"tab\\there \\u0001 \\u001f \u007f quote\\\" back\\\\ slash/ é 中 😀 \u2028\""},
		{"numbers", `[1.0, 1e2, 1E-5, 0.0001, 1e16, 1.5e16, 123456789012345678, 1e15, -0, -0.0, 0.1, 1e400, -1e400, 1e-400, 3.14159, 2.5e-7, 100000000000000000000000]`,
			`[1.0, 100.0, 1e-05, 0.0001, 1e+16, 1.5e+16, 123456789012345678, 1000000000000000.0, 0, -0.0, 0.1, Infinity, -Infinity, 0.0, 3.14159, 2.5e-07, 100000000000000000000000]`},
		{"empty array", `[]`, `[]`},
		{"empty object", `{}`, `{}`},
		{"empty containers nested", `[[],{}]`, `[[], {}]`},
		{"whitespace dropped", `  {"a" : [ 1 , 2 ] }  `, `{"a": [1, 2]}`},
		{"named escapes", `"\b\f\n\r"`, `"\b\f\n\r"`},
		{"big int", `12345678901234567890123`, `12345678901234567890123`},
		{"signed exponent", `-1.25e+3`, `-1250.0`},
		{"smallest subnormal", `5e-324`, `5e-324`},
		{"largest float", `1.7976931348623157e308`, `1.7976931348623157e+308`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := PythonJSON([]byte(c.src))
			if err != nil {
				t.Fatalf("PythonJSON(%q): %v", c.src, err)
			}
			if got != c.want {
				t.Errorf("PythonJSON(%q)\n got %q\nwant %q", c.src, got, c.want)
			}
		})
	}
}

func TestPythonJSONErrors(t *testing.T) {
	cases := []struct{ name, src string }{
		{"empty", ``},
		{"truncated object", `{"a":`},
		{"trailing data", `{} {}`},
		{"bare word", `nope`},
		{"too deep", strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got, err := PythonJSON([]byte(c.src)); err == nil {
				t.Errorf("PythonJSON(%q) = %q, want an error", c.src, got)
			} else if !strings.HasPrefix(err.Error(), "chat: json: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func FuzzPythonJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,"x\u0001"]}`, `[]`, `"é"`, `-0.0`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := PythonJSON(src)
		if err != nil {
			return
		}
		// The output is itself valid JSON (bar the non-standard Infinity and
		// NaN) and re-serializes to itself.
		if strings.Contains(out, "Infinity") || strings.Contains(out, "NaN") {
			return
		}
		again, err := PythonJSON([]byte(out))
		if err != nil {
			t.Fatalf("output %q of %q does not parse: %v", out, src, err)
		}
		if again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", src, out, again)
		}
	})
}
