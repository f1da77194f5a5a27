// Tests of the keep_alive field: its forms, its errors, and a fuzz test
// that no input panics or decodes to a value out of range.

package api

import (
	"encoding/json"
	"testing"
	"time"
)

func TestKeepAliveForms(t *testing.T) {
	for in, want := range map[string]time.Duration{
		`"5m"`: 5 * time.Minute, `"30s"`: 30 * time.Second, `"0"`: 0, `0`: 0, `90`: 90 * time.Second,
		`1.5`: 1500 * time.Millisecond, `-1`: -1, `"-1"`: -1, `"-5m"`: -1,
	} {
		var k KeepAlive
		if err := json.Unmarshal([]byte(in), &k); err != nil {
			t.Errorf("%s: %v", in, err)
		} else if time.Duration(k) != want {
			t.Errorf("%s: got %v, want %v", in, time.Duration(k), want)
		}
	}
	for _, in := range []string{`"soon"`, `true`, `{}`, `1e300`, `"1e300"`} {
		var k KeepAlive
		if err := json.Unmarshal([]byte(in), &k); err == nil {
			t.Errorf("%s: accepted as %v", in, time.Duration(k))
		}
	}
	_, e := DecodeChatCompletionRequest([]byte(`{"model":"m","keep_alive":"soon","messages":[{"role":"user","content":"hi"}]}`))
	if e == nil || e.Param != "keep_alive" {
		t.Errorf("bad keep_alive in a request: %v", e)
	}
}

func FuzzKeepAlive(f *testing.F) {
	for _, s := range []string{`"5m"`, `0`, `-1`, `"-1"`, `1e9`, `"1h2m3s"`, `"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var k KeepAlive
		if err := json.Unmarshal([]byte(in), &k); err == nil && time.Duration(k) > maxKeepAliveSeconds*time.Second && time.Duration(k) >= 0 {
			// A duration string may exceed the numeric bound; it still
			// fits a time.Duration, which is all that matters.
			if in[0] != '"' {
				t.Errorf("%s: numeric keep_alive beyond the bound: %v", in, time.Duration(k))
			}
		}
	})
}
