// This file holds the keep_alive extension field of the generation
// requests, as ollama has it: how long the model stays loaded after the
// request, a duration string ("5m", "30s") or a number of seconds; 0
// unloads it once the request ends, a negative value keeps it for ever.

package api

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// KeepAlive is a keep_alive value: the idle time after which the model is
// unloaded; negative keeps it loaded for ever.
type KeepAlive time.Duration

// maxKeepAliveSeconds bounds a numeric keep_alive far from overflowing a
// time.Duration (about 292 years); beyond it, use -1.
const maxKeepAliveSeconds = 100 * 365 * 24 * 3600

// UnmarshalJSON reads a duration string or a number of seconds.
func (k *KeepAlive) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return Invalid("keep_alive", "keep_alive: %v", err)
		}
		if d, err := time.ParseDuration(s); err == nil {
			*k = KeepAlive(max(d, -1)) // any negative: for ever
			return nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return Invalid("keep_alive", "keep_alive must be a duration (\"5m\", \"30s\") or a number of seconds (0: unload after the request, -1: for ever), got %q", s)
		}
		return k.seconds(f)
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return Invalid("keep_alive", "keep_alive must be a duration string or a number of seconds, got %s", b)
	}
	return k.seconds(f)
}

// seconds sets k from a number of seconds.
func (k *KeepAlive) seconds(f float64) error {
	switch {
	case math.IsNaN(f) || f > maxKeepAliveSeconds:
		return Invalid("keep_alive", "keep_alive %v is out of range (at most %d seconds; -1 keeps the model for ever)", f, maxKeepAliveSeconds)
	case f < 0:
		*k = -1
	default:
		*k = KeepAlive(f * float64(time.Second))
	}
	return nil
}

// MarshalJSON writes the duration as a string ("5m0s"), or -1.
func (k KeepAlive) MarshalJSON() ([]byte, error) {
	if k < 0 {
		return []byte("-1"), nil
	}
	return json.Marshal(time.Duration(k).String())
}
