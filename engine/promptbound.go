// This file bounds the work a prompt can cost before the context check
// refuses it. A prompt's text is tokenized only as far as the context
// reaches; a text so long that even its fewest possible tokens overflow the
// context is refused without tokenizing at all; and only a few prompts are
// tokenized at once, so that many oversized requests cannot take every core
// and a large share of memory together. Logit-bias ids are checked against
// the vocabulary here too, before any work.

package engine

import (
	"context"
	"fmt"
	"runtime"
)

// nfcShrink bounds how much NFC normalization can shrink a text before it
// is split into tokens: a Hangul syllable spelled as three conjoining jamo
// (9 bytes) composes to one 3-byte character.
const nfcShrink = 3

// tokenizeSlots bounds the prompts being tokenized at once, process-wide.
var tokenizeSlots = make(chan struct{}, max(runtime.GOMAXPROCS(0), 2))

// longestToken returns the most bytes of text one token of the vocabulary
// stands for (at least 1).
func longestToken(nVocab int, tokenBytes func(int32) []byte) int {
	n := 1
	for id := range int32(nVocab) {
		n = max(n, len(tokenBytes(id)))
	}
	return n
}

// leastTokens is a lower bound on the tokens of a text of n bytes.
func (g *Generator) leastTokens(n int) int {
	if g.maxTokenBytes <= 0 {
		return 0
	}
	return n / (nfcShrink * g.maxTokenBytes)
}

// MaxPromptBytes bounds the text of a prompt that can still fit the
// context: any longer text has more tokens than the context holds. Callers
// can size request-body limits from it (allowing for their own encoding).
func (g *Generator) MaxPromptBytes() int64 {
	return int64(g.nCtx) * int64(nfcShrink) * int64(max(g.maxTokenBytes, 1))
}

// boundedPromptTokens returns the prompt ids of req, tokenizing at most
// while a tokenize slot is free and at most as far as the context reaches.
func (g *Generator) boundedPromptTokens(ctx context.Context, req *GenerateRequest) ([]int32, error) {
	if len(req.Tokens) > 0 {
		return g.promptTokens(req, g.nCtx)
	}
	select {
	case tokenizeSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-tokenizeSlots }()
	return g.promptTokens(req, g.nCtx)
}

// checkBias refuses logit-bias ids outside the vocabulary, which would
// otherwise be dropped without a word.
func (g *Generator) checkBias(bias map[int32]float32) error {
	for id := range bias {
		if id < 0 || int(id) >= g.nVocab {
			return fmt.Errorf("%w: logit_bias: token id %d is outside the vocabulary [0, %d)", ErrBadRequest, id, g.nVocab)
		}
	}
	return nil
}
