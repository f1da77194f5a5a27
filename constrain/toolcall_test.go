// Tests of the tool-call language: blocks in Qwen3's format calling the
// offered functions with arguments valid against their parameters, one
// block or several.
package constrain

import (
	"strings"
	"testing"
)

func TestToolCalls(t *testing.T) {
	tools := []Tool{
		{Name: "get_weather", Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`)},
		{Name: "now"},
		{Name: "ping", Parameters: []byte(`{}`)},
	}
	call := func(name, args string) string {
		return "<tool_call>\n{\"name\": \"" + name + "\", \"arguments\": " + args + "}\n</tool_call>"
	}
	weather, now := call("get_weather", `{"city": "Paris"}`), call("now", `{}`)
	cases := []struct {
		name     string
		single   bool
		text     string
		complete bool
		done     bool
		valid    bool
	}{
		{"one call", false, weather, true, false, true},
		{"one call, single", true, weather, true, true, true},
		{"two calls", false, weather + "\n" + now, true, false, true},
		{"two calls, single", true, weather + "\n" + now, false, false, false},
		{"no-parameter tool takes any object", false, call("now", `{"x": [1]}`), true, false, true},
		{"empty parameters take any object", false, call("ping", `{"x": 1}`), true, false, true},
		{"empty parameters take no other value", false, call("ping", `"x"`), false, false, false},
		{"unknown function", false, call("delete_all", `{}`), false, false, false},
		{"arguments break the schema", false, call("get_weather", `{"town": "Paris"}`), false, false, false},
		{"missing arguments", false, "<tool_call>\n{\"name\": \"now\"}", false, false, false},
		{"arguments before name", false, "<tool_call>\n{\"arguments\": {}, \"name\": \"now\"}", false, false, false},
		{"text instead of a call", false, "Sure!", false, false, false},
		{"open block", false, "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}", false, false, true},
		{"separator then end", false, weather + "\n", false, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := CompileToolCalls(tools, tc.single)
			if err != nil {
				t.Fatal(err)
			}
			m := s.NewMatcher()
			_, ok := feedAll(m, tc.text)
			if ok != tc.valid || (ok && (m.Complete() != tc.complete || m.Done() != tc.done)) {
				t.Fatalf("%q: valid %v complete %v done %v, want %v %v %v", tc.text, ok, m.Complete(), m.Done(), tc.valid, tc.complete, tc.done)
			}
		})
	}
	if _, err := CompileToolCalls([]Tool{{Name: "f", Parameters: []byte(`{"type":"string","pattern":"x"}`)}}, false); err == nil || !strings.Contains(err.Error(), `"pattern"`) {
		t.Fatalf("error %v, want one naming pattern", err)
	}
}
