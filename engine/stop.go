// Stop strings: generation ends when the output text contains one of the
// request's stop strings, and neither the stop string nor anything after it
// is emitted. Text arrives in token-sized pieces, so a stop string can span
// several tokens; the matcher holds back any tail of the text that could be
// the start of a stop string and releases it once it cannot.

package engine

import "strings"

// StopMatcher finds stop strings in a stream of text pieces.
type StopMatcher struct {
	stops   []string
	maxLen  int
	pending strings.Builder // text held back (a possible stop-string prefix)
	stopped bool
}

// NewStopMatcher returns a matcher for the given stop strings; empty strings
// are ignored.
func NewStopMatcher(stops []string) *StopMatcher {
	m := &StopMatcher{}
	for _, s := range stops {
		if s != "" {
			m.stops = append(m.stops, s)
			m.maxLen = max(m.maxLen, len(s))
		}
	}
	return m
}

// Feed adds text and returns the part of it (with earlier held-back text)
// that can be emitted now. stopped is true when a stop string was found; the
// returned text then ends just before it and later calls return nothing.
func (m *StopMatcher) Feed(text string) (out string, stopped bool) {
	if m.stopped {
		return "", true
	}
	if len(m.stops) == 0 {
		return text, false
	}
	var buf string
	if m.pending.Len() == 0 {
		buf = text
	} else {
		m.pending.WriteString(text)
		buf = m.pending.String()
		m.pending.Reset()
	}
	// The earliest stop string wins; at equal positions the longest.
	at, n := -1, 0
	for _, s := range m.stops {
		if i := strings.Index(buf, s); i >= 0 && (at < 0 || i < at || (i == at && len(s) > n)) {
			at, n = i, len(s)
		}
	}
	hold := m.heldTail(buf)
	// A match counts unless a longer stop string could still match earlier
	// (its start is in the held-back tail, before the match).
	if at >= 0 && at <= len(buf)-hold {
		m.stopped = true
		return buf[:at], true
	}
	m.pending.WriteString(buf[len(buf)-hold:])
	return buf[:len(buf)-hold], false
}

// heldTail returns the length of the longest suffix of buf that is a proper
// prefix of some stop string.
func (m *StopMatcher) heldTail(buf string) int {
	for n := min(len(buf), m.maxLen-1); n > 0; n-- {
		tail := buf[len(buf)-n:]
		for _, s := range m.stops {
			if len(s) > n && strings.HasPrefix(s, tail) {
				return n
			}
		}
	}
	return 0
}

// Flush returns the held-back text at the end of generation (nothing once a
// stop string matched).
func (m *StopMatcher) Flush() string {
	if m.stopped {
		return ""
	}
	s := m.pending.String()
	m.pending.Reset()
	return s
}

// Stopped reports whether a stop string has matched.
func (m *StopMatcher) Stopped() bool { return m.stopped }
