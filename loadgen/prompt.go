// This file builds the deterministic prompts of a load test: a user message
// of about n tokens, and a chat history of about n tokens in alternating
// user and assistant turns. Text is single lower-case letters separated by
// spaces: with byte-level BPE vocabularies (Qwen3's, and neuron's synthetic
// one, which merges "Ġ" with each letter) a space and a letter are one token,
// so n words are about n tokens. Every request gets a different text (its
// letters come from the seed and its index), so no two prompts share more
// than their template's opening, and prefix reuse on the server cannot make
// a throughput run look faster than it is.

package loadgen

import (
	"math/rand/v2"
	"strings"
)

// words returns n space-separated letters drawn from a generator seeded with
// seed and stream.
func words(seed int64, stream uint64, n int) string {
	r := rand.New(rand.NewPCG(uint64(seed), stream))
	var b strings.Builder
	b.Grow(2 * n)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(byte('a' + r.IntN(26)))
	}
	return b.String()
}

// userPrompt is the user message of request i: n letters (about n tokens;
// the chat template adds its own few, which the warm-up measures).
func userPrompt(seed int64, i, n int) string {
	return words(seed, uint64(i)&(1<<32-1), max(n, 1))
}

// history is the opening of conversation c: turns alternating user and
// assistant messages of about perTurn tokens each, about total tokens in all.
func history(seed int64, c, total, perTurn int) []message {
	if perTurn < 1 {
		perTurn = 1
	}
	var msgs []message
	for i, left := 0, total; left > 0; i++ {
		n := min(perTurn, left)
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		// Streams 1<<32 + ... keep history text apart from userPrompt's.
		msgs = append(msgs, message{Role: role, Content: words(seed, 1<<32+uint64(c)<<16+uint64(i), n)})
		left -= n
	}
	if len(msgs)%2 == 1 { // end on an assistant turn, so the question follows a reply
		msgs = append(msgs, message{Role: "assistant", Content: "ok"})
	}
	return msgs
}
