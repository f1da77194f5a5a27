// This file holds the lexer of a JSON string's contents, shared by the
// object validator and the schema matcher: characters, escapes (\uXXXX
// included) and well-formed UTF-8 (RFC 8259 section 8.1: overlong forms,
// surrogates and code points above U+10FFFF are rejected), unescaped
// control characters refused.

package constrain

// strLexer is the state inside a string's quotes; the zero value is
// between characters. It is a plain value.
type strLexer struct {
	phase  uint8 // strChar, strEscape, strHex or strUTF8
	left   uint8 // strHex: hex digits left; strUTF8: continuation bytes left
	lo, hi uint8 // strUTF8: the range of the next byte
}

// strLexer phases.
const (
	strChar   uint8 = iota // between characters
	strEscape              // after '\'
	strHex                 // inside \uXXXX
	strUTF8                // inside a multi-byte character
)

// Results of strLexer.step.
const (
	strBad   = iota // the byte cannot come here
	strClose        // the closing quote
	strStart        // the first byte of a character (an escape counts as one)
	strIn           // a later byte of a character
)

// step consumes one byte.
func (s *strLexer) step(c byte) int {
	switch s.phase {
	case strChar:
		switch {
		case c == '"':
			return strClose
		case c == '\\':
			s.phase = strEscape
			return strStart
		case c < 0x20: // control characters must be escaped
			return strBad
		case c < 0x80:
			return strStart
		}
		lo, hi, more := utf8Lead(c)
		if more == 0 {
			return strBad
		}
		s.phase, s.left, s.lo, s.hi = strUTF8, uint8(more), lo, hi
		return strStart
	case strEscape:
		switch c {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			s.phase = strChar
		case 'u':
			s.phase, s.left = strHex, 4
		default:
			return strBad
		}
		return strIn
	case strHex:
		if !isHex(c) {
			return strBad
		}
		if s.left--; s.left == 0 {
			s.phase = strChar
		}
		return strIn
	case strUTF8:
		if c < s.lo || c > s.hi {
			return strBad
		}
		if s.left--; s.left == 0 {
			*s = strLexer{} // one state between characters, whatever came before
		} else {
			s.lo, s.hi = 0x80, 0xBF
		}
		return strIn
	}
	return strBad
}

// utf8Lead returns the range of the byte after a UTF-8 lead byte and the
// number of continuation bytes (0: not a lead byte), from the Unicode
// standard's table 3-7 of well-formed UTF-8 byte sequences.
func utf8Lead(c byte) (lo, hi byte, more int32) {
	switch {
	case c >= 0xC2 && c <= 0xDF:
		return 0x80, 0xBF, 1
	case c == 0xE0:
		return 0xA0, 0xBF, 2
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		return 0x80, 0xBF, 2
	case c == 0xED:
		return 0x80, 0x9F, 2
	case c == 0xF0:
		return 0x90, 0xBF, 3
	case c >= 0xF1 && c <= 0xF3:
		return 0x80, 0xBF, 3
	case c == 0xF4:
		return 0x80, 0x8F, 3
	}
	return 0, 0, 0
}
