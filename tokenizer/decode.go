// This file holds decoding: ids back to text, all at once (Decode) or token
// by token during generation (StreamDecoder). Both turn the concatenated
// bytes of the tokens into text the same way, so the pieces a StreamDecoder
// releases always add up to Decode of the same ids.

package tokenizer

import "unicode/utf8"

// Decode returns the text of ids. Added and special tokens come out
// verbatim, padding rows and ids out of range as nothing, and bytes that do
// not form valid UTF-8 as U+FFFD (one per maximal ill-formed subpart, as
// Hugging Face decoders do).
func (t *Tokenizer) Decode(ids []int32) string {
	n := 0
	for _, id := range ids {
		n += len(t.piece(id))
	}
	raw := make([]byte, 0, n)
	for _, id := range ids {
		raw = append(raw, t.piece(id)...)
	}
	if utf8.Valid(raw) {
		return string(raw)
	}
	return string(appendLossy(nil, raw))
}

// TokenBytes returns a copy of the bytes id decodes to on its own (raw,
// possibly part of a UTF-8 sequence), as OpenAI log-probabilities report
// them; nil for ids out of range and padding rows.
func (t *Tokenizer) TokenBytes(id int32) []byte {
	p := t.piece(id)
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

// piece returns the bytes id stands for.
func (t *Tokenizer) piece(id int32) []byte {
	if id < 0 || int(id) >= len(t.pieceOff)-1 {
		return nil
	}
	return t.pieceData[t.pieceOff[id]:t.pieceOff[id+1]:t.pieceOff[id+1]]
}

// StreamDecoder turns generated ids into text incrementally. Add returns
// only complete UTF-8 text and returns each byte once: the start of a
// multi-byte character cut across tokens is held back until its last byte
// arrives. The rule for bad input: bytes that can no longer become a valid
// character (a stray continuation byte, a lead byte followed by a byte that
// does not continue it) come out at once as U+FFFD, so at most the last 3
// bytes are ever held, and Flush releases those as U+FFFD. The
// concatenation of everything Add and Flush return equals Decode of the
// same ids. A StreamDecoder is not safe for concurrent use.
type StreamDecoder struct {
	t           *Tokenizer
	pending     []byte
	skipControl bool
}

// SkipControl makes the decoder drop control tokens (<|im_start|>,
// <|im_end|>, ...) rather than write their text, as llama.cpp's server does
// by default; user-defined tokens such as <think> still come out. It
// returns d.
func (d *StreamDecoder) SkipControl(skip bool) *StreamDecoder {
	d.skipControl = skip
	return d
}

// NewDecoder returns a StreamDecoder for t.
func (t *Tokenizer) NewDecoder() *StreamDecoder { return &StreamDecoder{t: t} }

// Add feeds one id and returns the text it completes, possibly "".
func (d *StreamDecoder) Add(id int32) string {
	if d.skipControl && d.t.TokenType(id) == TypeControl {
		return ""
	}
	d.pending = append(d.pending, d.t.piece(id)...)
	keep := incompleteTail(d.pending)
	ready := d.pending[:len(d.pending)-keep]
	var out string
	if utf8.Valid(ready) {
		out = string(ready)
	} else {
		out = string(appendLossy(nil, ready))
	}
	n := copy(d.pending, d.pending[len(ready):])
	d.pending = d.pending[:n]
	return out
}

// Flush returns the held-back bytes (an unfinished character, as U+FFFD)
// and resets the decoder.
func (d *StreamDecoder) Flush() string {
	out := string(appendLossy(nil, d.pending))
	d.pending = d.pending[:0]
	return out
}

// Pending reports how many bytes are held back.
func (d *StreamDecoder) Pending() int { return len(d.pending) }
