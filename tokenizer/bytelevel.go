// This file holds the byte-level alphabet of GPT-2 style BPE: every byte is
// shown as one printable rune so that vocabulary entries are valid text, and
// decoding maps those runes back to the bytes they stand for. It also holds
// the lossy UTF-8 conversion used when decoded bytes are turned into text.

package tokenizer

import "unicode/utf8"

// byteRune maps a byte to the rune that represents it in vocabulary
// entries, and runeByte is its inverse (-1 for runes outside the alphabet;
// all alphabet runes are below 0x100+68). The table is the one of GPT-2's
// bytes_to_unicode: printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ')
// stand for themselves, the other 68 bytes are numbered from U+0100 up in
// byte order.
var (
	byteRune [256]rune
	runeByte [0x100 + 68]int16
)

func init() {
	for i := range runeByte {
		runeByte[i] = -1
	}
	next := rune(256)
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			byteRune[b] = rune(b)
		} else {
			byteRune[b] = next
			next++
		}
		runeByte[byteRune[b]] = int16(b)
	}
}

// byteLevelEncode returns the vocabulary spelling of raw bytes.
func byteLevelEncode(b []byte) string {
	out := make([]rune, len(b))
	for i, c := range b {
		out[i] = byteRune[c]
	}
	return string(out)
}

// appendByteLevelDecode appends the bytes a vocabulary entry stands for.
// Like the Hugging Face ByteLevel decoder, an entry holding any rune outside
// the byte-level alphabet is taken as its own UTF-8 bytes.
func appendByteLevelDecode(dst []byte, tok string) []byte {
	start := len(dst)
	for _, r := range tok {
		if r < 0 || int(r) >= len(runeByte) || runeByte[r] < 0 {
			return append(dst[:start], tok...)
		}
		dst = append(dst, byte(runeByte[r]))
	}
	return dst
}

// appendLossy appends b to dst as valid UTF-8: every maximal subpart of an
// ill-formed sequence becomes one U+FFFD, as Rust's String::from_utf8_lossy
// (used by Hugging Face decoders) and the Unicode standard's "substitution of
// maximal subparts" practice do.
func appendLossy(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			dst = append(dst, b[i])
			i++
			continue
		}
		n, complete := validPrefix(b[i:])
		if complete {
			dst = append(dst, b[i:i+n]...)
		} else {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		}
		i += n
	}
	return dst
}

// validPrefix reports how many bytes at the start of b (b[0] >= 0x80) belong
// to one UTF-8 sequence: either a complete valid one (complete true) or the
// maximal subpart of one that is ill-formed or cut short by the end of b
// (complete false, n >= 1). Byte ranges follow table 3-7 of the Unicode
// standard (well-formed UTF-8 byte sequences).
func validPrefix(b []byte) (n int, complete bool) {
	lead := b[0]
	var size int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		size = 2
	case lead == 0xE0:
		size, lo = 3, 0xA0
	case lead == 0xED:
		size, hi = 3, 0x9F
	case lead >= 0xE1 && lead <= 0xEF:
		size = 3
	case lead == 0xF0:
		size, lo = 4, 0x90
	case lead >= 0xF1 && lead <= 0xF3:
		size = 4
	case lead == 0xF4:
		size, hi = 4, 0x8F
	default:
		return 1, false
	}
	n = 1
	for ; n < size; n++ {
		if n >= len(b) || b[n] < lo || b[n] > hi {
			return n, false
		}
		lo, hi = 0x80, 0xBF
	}
	return size, true
}

// incompleteTail reports how many bytes at the end of b are the start of a
// UTF-8 sequence that more bytes could still complete (0 to 3).
func incompleteTail(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		i := len(b) - k
		if b[i] < 0x80 {
			return 0
		}
		if b[i] >= 0xC0 {
			n, complete := validPrefix(b[i:])
			if !complete && n == k {
				return k
			}
			return 0
		}
	}
	return 0
}
