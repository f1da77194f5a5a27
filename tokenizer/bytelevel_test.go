// This file tests the byte-level alphabet against well-known entries of
// GPT-2's bytes_to_unicode table and for being a bijection.
package tokenizer

import "testing"

func TestByteLevelAlphabet(t *testing.T) {
	known := map[byte]rune{
		0x00: 'Ā', // first non-printable byte -> U+0100
		' ':  'Ġ', // U+0120, the familiar space marker
		'\n': 'Ċ', // U+010A
		'\t': 'ĉ', // U+0109
		'A':  'A',
		0xA1: '¡',
		0xAD: 'Ń', // soft hyphen, the last of the 68 remapped bytes: U+0143
		0xFF: 'ÿ',
	}
	for b, r := range known {
		if byteRune[b] != r {
			t.Errorf("byte 0x%02x -> %U, want %U", b, byteRune[b], r)
		}
	}
	seen := map[rune]bool{}
	for b := 0; b < 256; b++ {
		r := byteRune[b]
		if seen[r] {
			t.Fatalf("rune %U used twice", r)
		}
		seen[r] = true
		if got := appendByteLevelDecode(nil, string(r)); len(got) != 1 || got[0] != byte(b) {
			t.Errorf("decode %U = %v, want [%d]", r, got, b)
		}
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	if got := appendByteLevelDecode(nil, byteLevelEncode(all)); string(got) != string(all) {
		t.Error("encode/decode of all bytes does not round-trip")
	}
	// An entry with a rune outside the alphabet is its own UTF-8 text.
	if got := string(appendByteLevelDecode([]byte("x"), "aĠ中")); got != "xaĠ中" {
		t.Errorf("foreign rune entry decodes to %q", got)
	}
}
