// Tests of the schema compiler and matcher against byte strings: named
// texts that must be valid prefixes, complete values or rejected, for each
// construct of the supported subset; the errors for keywords outside it;
// and fuzz tests of the compiler and of the matcher against the
// independent validator.
package constrain

import (
	"errors"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/schematest"
)

// feedAll feeds text byte by byte and reports how far it got.
func feedAll(m Matcher, text string) (int, bool) {
	for i := 0; i < len(text); i++ {
		if !m.Accepts([]byte{text[i]}) {
			return i, false
		}
		if !m.Feed([]byte{text[i]}) {
			return i, false
		}
	}
	return len(text), true
}

func TestSchemaMatcher(t *testing.T) {
	type want int
	const (
		prefix   want = iota // a valid prefix, not complete
		complete             // a complete value
		rejected             // not a prefix of any valid value
	)
	cases := []struct {
		name, schema string
		texts        map[string]want
	}{
		{"object order and required", `{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},"required":["b"]}`,
			map[string]want{`{"b":"x"}`: complete, `{"a":1,"b":"x"}`: complete, `{"a":1,"b":"x","c":true}`: complete,
				`{"b":"x","a":1}`: rejected, `{}`: rejected, `{"a":1}`: rejected, `{"c":true}`: rejected, `{"d":1}`: rejected,
				`{"a":1,"a":2}`: rejected, `{ "b" : "x" }`: complete, `{"b":"x",}`: rejected, `{"a"`: prefix}},
		{"additionalProperties false, no properties", `{"type":"object","additionalProperties":false}`,
			map[string]want{`{}`: complete, `{"a":1}`: rejected}},
		{"map", `{"type":"object","additionalProperties":{"type":"integer"}}`,
			map[string]want{`{}`: complete, `{"x":1,"y":2}`: complete, `{"x":"1"}`: rejected}},
		{"array bounds", `{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2}`,
			map[string]want{`[]`: rejected, `[1]`: complete, `[1,2]`: complete, `[1,2,3]`: rejected, `[1,`: prefix, `[1,2,`: rejected}},
		{"string enum", `{"enum":["red","green","gr"]}`,
			map[string]want{`"red"`: complete, `"gr"`: complete, `"green"`: complete, `"gre`: prefix, `"blue"`: rejected, `"grx`: rejected}},
		{"numeric enum prefixes", `{"enum":[1,12,3]}`,
			map[string]want{`1`: complete, `12`: complete, `123`: rejected, `3`: complete, `2`: rejected}},
		{"const object", `{"const":{"a":[1,"x"]}}`,
			map[string]want{`{"a":[1,"x"]}`: complete, `{"a":[1,"y"]}`: rejected}},
		{"string length", `{"type":"string","minLength":2,"maxLength":3}`,
			map[string]want{`"ab"`: complete, `"abc"`: complete, `"a"`: rejected, `"abcd`: rejected, `"é\n"`: complete, `"日本語"`: complete, `"日本語x`: rejected}},
		{"string escapes and utf-8", `{"type":"string"}`,
			map[string]want{`"a\"b\\c\u00e9"`: complete, "\"\x01\"": rejected, `"\x"`: rejected, "\"\xc3\xa9\"": complete, "\"\xc3\"": rejected, "\"\xed\xa0\x80\"": rejected}},
		{"date", `{"type":"string","format":"date"}`,
			map[string]want{`"2024-02-29"`: complete, `"2023-02-29"`: rejected, `"2023-04-31"`: rejected, `"2023-13-01"`: rejected, `"2023-00-10"`: rejected,
				`"2023-01-00"`: rejected, `"2023-12-31"`: complete, `"2023-1`: prefix, `"2023-1-01"`: rejected, `"1900-02-29"`: rejected, `"2000-02-29"`: complete}},
		{"date-time", `{"type":"string","format":"date-time"}`,
			map[string]want{`"2024-05-06T07:08:09Z"`: complete, `"2024-05-06T07:08:09.123+05:30"`: complete, `"2024-05-06T24:00:00Z"`: rejected,
				`"2024-05-06T07:60:00Z"`: rejected, `"2024-05-06 07:08:09Z"`: rejected, `"2024-05-06T07:08:09"`: rejected, `"2024-05-06T07:08:09.Z"`: rejected}},
		{"time", `{"type":"string","format":"time"}`,
			map[string]want{`"23:59:59Z"`: complete, `"23:59:59-01:00"`: complete, `"12:00"`: rejected}},
		{"uuid", `{"type":"string","format":"uuid"}`,
			map[string]want{`"123e4567-e89b-12d3-a456-426614174000"`: complete, `"123e4567e89b"`: rejected, `"123g`: rejected}},
		{"integer bounds", `{"type":"integer","minimum":5,"maximum":120}`,
			map[string]want{`5`: complete, `120`: complete, `1`: prefix, `12`: complete, `121`: rejected, `4`: prefix, `0`: rejected, `-`: rejected, `5.0`: rejected, `1200`: rejected}},
		{"negative integer bounds", `{"type":"integer","minimum":-50,"maximum":-10}`,
			map[string]want{`-10`: complete, `-50`: complete, `-51`: rejected, `-5`: prefix, `-9`: rejected, `0`: rejected, `1`: rejected}},
		{"exclusive integer bounds", `{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":3}`,
			map[string]want{`1`: complete, `2`: complete, `0`: rejected, `3`: rejected}},
		{"number bounds", `{"type":"number","minimum":0.5,"maximum":2}`,
			map[string]want{`0.5`: complete, `0.4`: rejected, `0.`: prefix, `2`: complete, `2.0`: complete, `2.01`: rejected, `1.75`: complete, `3`: rejected, `1e3`: rejected}},
		{"exclusive number bounds", `{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1}`,
			map[string]want{`0`: prefix, `0.0`: prefix, `0.5`: complete, `1`: rejected, `-0`: rejected}},
		{"unbounded number", `{"type":"number"}`,
			map[string]want{`-0.5e+10`: complete, `01`: rejected, `1.`: prefix, `.5`: rejected, `1e`: prefix, `1e123`: rejected}},
		{"boolean and null", `{"type":["boolean","null"]}`,
			map[string]want{`true`: complete, `false`: complete, `null`: complete, `nul`: prefix, `0`: rejected}},
		{"OpenAPI nullable: non-null values only", `{"type":"string","nullable":true}`,
			map[string]want{`null`: rejected, `"x"`: complete, `1`: rejected}},
		{"anyOf objects sharing a prefix", `{"anyOf":[{"type":"object","properties":{"k":{"const":"a"},"x":{"type":"integer"}},"required":["k","x"],"additionalProperties":false},{"type":"object","properties":{"k":{"const":"b"},"y":{"type":"string"}},"required":["k","y"],"additionalProperties":false}]}`,
			map[string]want{`{"k":"a","x":1}`: complete, `{"k":"b","y":"s"}`: complete, `{"k":"a","y":"s"}`: rejected, `{"k":"`: prefix}},
		{"recursive ref", `{"$defs":{"n":{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#/$defs/n"},{"type":"null"}]}},"required":["next"],"additionalProperties":false}},"$ref":"#/$defs/n"}`,
			map[string]want{`{"next":null}`: complete, `{"next":{"next":{"next":null}}}`: complete, `{"next":{}}`: rejected}},
		{"root ref", `{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#"}}},"required":["kids"],"additionalProperties":false}`,
			map[string]want{`{"kids":[{"kids":[]},{"kids":[{"kids":[]}]}]}`: complete}},
		{"any value", `{}`,
			map[string]want{`{"a":[1,{"b":null}],"c":"d"}`: complete, `[true]`: complete, `"s"`: complete, `{,}`: rejected}},
		{"whitespace runs", `{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"array"}}}`,
			map[string]want{"{ \"a\" : 1 }": complete, "{\n  \"a\": 1,\n\t\"b\": [\n    1\n  ]\n}": complete,
				"{\n" + strings.Repeat(" ", maxIndent): prefix, "{\n" + strings.Repeat(" ", maxIndent+1): rejected,
				"{  ": rejected, "{\n\n": rejected, "{ \n": rejected, "{\t": rejected, "{\r\n": rejected, " {}": complete, "  {}": rejected}},
		{"choices without a finite value are pruned", `{"$defs":{"loop":{"type":"object","properties":{"again":{"$ref":"#/$defs/loop"}},"required":["again"]}},` +
			`"type":"object","properties":{"a":{"$ref":"#/$defs/loop"},"b":{"anyOf":[{"$ref":"#/$defs/loop"},{"type":"null"}]},"c":{"type":"array","items":{"$ref":"#/$defs/loop"}}},"required":["b","c"]}`,
			map[string]want{`{"b":null,"c":[]}`: complete, `{"a"`: rejected, `{"b":{`: rejected, `{"b":null,"c":[{`: rejected}},
		{"no trailing text", `{"type":"object"}`,
			map[string]want{`{} `: rejected, `{}x`: rejected}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile([]byte(tc.schema))
			if err != nil {
				t.Fatal(err)
			}
			for text, w := range tc.texts {
				m := s.NewMatcher()
				n, ok := feedAll(m, text)
				var got want
				switch {
				case !ok:
					got = rejected
				case m.Complete():
					got = complete
				}
				if got != w {
					t.Errorf("%s: got %v (stopped at byte %d), want %v", text, got, n, w)
				}
				if got == complete && strings.HasSuffix(text, "}") && !m.Done() {
					t.Errorf("%s: complete object but not done", text)
				}
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ name, schema, want string }{
		{"pattern", `{"type":"string","pattern":"^a"}`, `"pattern"`},
		{"multipleOf", `{"type":"integer","multipleOf":2}`, `"multipleOf"`},
		{"allOf", `{"allOf":[{"type":"string"}]}`, `"allOf"`},
		{"not", `{"not":{"type":"string"}}`, `"not"`},
		{"if", `{"if":{"type":"string"},"then":{}}`, `"if"`},
		{"patternProperties", `{"type":"object","patternProperties":{"^a":{}}}`, `"patternProperties"`},
		{"minProperties", `{"type":"object","minProperties":1}`, `"minProperties"`},
		{"uniqueItems", `{"type":"array","uniqueItems":true}`, `"uniqueItems"`},
		{"prefixItems", `{"type":"array","prefixItems":[{}]}`, `"prefixItems"`},
		{"nested unsupported", `{"type":"object","properties":{"a":{"type":"string","pattern":"x"}}}`, `/properties/a: unsupported keyword "pattern"`},
		{"format email", `{"type":"string","format":"email"}`, `"format": "email"`},
		{"external ref", `{"$ref":"https://example.com/s.json"}`, `only references within the schema`},
		{"unresolved ref", `{"$ref":"#/$defs/missing"}`, `does not resolve`},
		{"ref cycle without container", `{"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"null"}]}},"$ref":"#/$defs/a"}`, `never reaches`},
		{"unknown type", `{"type":"int"}`, `unknown type "int"`},
		{"required cycle", `{"$defs":{"a":{"type":"object","properties":{"x":{"$ref":"#/$defs/a"}},"required":["x"]}},"$ref":"#/$defs/a"}`, `no finite value`},
		{"minItems cycle", `{"type":"array","minItems":1,"items":{"$ref":"#"}}`, `no finite value`},
		{"false schema", `false`, `allows no value`},
		{"required not listed", `{"type":"object","properties":{},"required":["x"]}`, `required property "x"`},
		{"min above max", `{"type":"integer","minimum":5,"maximum":4}`, `no integer`},
		{"minItems above maxItems", `{"type":"array","minItems":3,"maxItems":2}`, `minItems 3 > maxItems 2`},
		{"empty enum", `{"enum":[]}`, `no value`},
		{"not json", `{"type":`, `not valid JSON`},
		{"huge bound", `{"type":"number","maximum":1e300}`, `bounds beyond`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]byte(tc.schema))
			if err == nil {
				t.Fatal("compiled")
			}
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want ErrSchema naming %s", err, tc.want)
			}
		})
	}
}

// FuzzCompile compiles arbitrary documents: no panic, and a compiled
// schema's matcher survives a few bytes of every kind.
func FuzzCompile(f *testing.F) {
	for _, e := range loadCorpus(f) {
		f.Add([]byte(e.Schema))
	}
	f.Add([]byte(`{"$ref":"#"}`))
	f.Add([]byte(`{"anyOf":[{"$ref":"#"}]}`))
	f.Add([]byte(`{"type":["integer","null"],"minimum":-1e14}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Compile(src)
		if err != nil {
			if !errors.Is(err, ErrSchema) {
				t.Fatalf("error %v is not ErrSchema", err)
			}
			return
		}
		m := s.NewMatcher()
		for _, c := range []byte(`{"a": [1, -2.5, "x", true, null]}`) {
			m.Accepts([]byte{c})
			m.Feed([]byte{c})
		}
		m.Complete()
		m.Done()
	})
}

// FuzzMatcher feeds arbitrary text to the matcher of corpus schemas: a text
// the matcher takes as complete must validate with the independent
// validator.
func FuzzMatcher(f *testing.F) {
	corpus := loadCorpus(f)
	for i, e := range corpus {
		f.Add(uint8(i), []byte(`{"a": 1}`))
		_ = e
	}
	f.Add(uint8(0), []byte(`{"city":"Oslo","temperature_c":-3.5,"conditions":"snow","humidity":80}`))
	f.Add(uint8(15), []byte(`{"value":1,"children":[{"value":2,"children":[]}]}`))
	schemas := make([]*Schema, len(corpus))
	for i, e := range corpus {
		var err error
		if schemas[i], err = Compile(e.Schema); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, text []byte) {
		i := int(which) % len(corpus)
		m := schemas[i].NewMatcher()
		if !m.Feed(text) || !m.Complete() {
			return
		}
		ref := schematest.Compile(t, corpus[i].Schema)
		if err := schematest.Validate(ref, string(text)); err != nil {
			t.Fatalf("%s: %q accepted as complete but invalid: %v", corpus[i].Name, text, err)
		}
	})
}

// BenchmarkCompile compiles every schema of the corpus (ns/op is per
// schema) and a two-tool call language.
func BenchmarkCompile(b *testing.B) {
	corpus := loadCorpus(b)
	b.Run("corpus", func(b *testing.B) {
		n := 0
		for b.Loop() {
			for _, e := range corpus {
				if _, err := Compile(e.Schema); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/schema")
	})
	b.Run("tool calls", func(b *testing.B) {
		tools := []Tool{{Name: "get_weather", Parameters: corpus[0].Schema}, {Name: "search", Parameters: corpus[len(corpus)-3].Schema}}
		for b.Loop() {
			if _, err := CompileToolCalls(tools, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
