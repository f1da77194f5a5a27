// JSON mode's validator: an incremental recognizer for the prefixes of a
// JSON text (RFC 8259) whose top-level value is an object. It is a small
// pushdown automaton over bytes: a handful of lexical states (value,
// string, escape, \u digits, UTF-8 continuation, number parts, literals,
// punctuation) and a bit stack of open containers (object or array). The
// whole state is a fixed-size value, so cloning it is a plain copy and
// checking a candidate token's bytes allocates nothing:
//
//	t := v          // clone
//	if t.Feed(b) {  // b keeps the text a valid prefix
//		v = t       // advance
//	}
//
// Strings must be well-formed UTF-8 (RFC 8259 section 8.1; overlong forms,
// surrogates and code points above U+10FFFF are rejected) and contain no
// unescaped control characters. Whitespace is space, tab, LF and CR, and is
// allowed around every token, after the object too; anything else after the
// top-level object closes is rejected. LimitSpace bounds runs of whitespace
// between tokens, so that a sampler cannot pad forever.

package constrain

import "math"

// JSONMaxDepth is the deepest nesting of objects and arrays the validator
// accepts: the size of its bit stack. Deeper prefixes are rejected, which
// keeps the state a fixed-size value (encoding/json allows 10000 levels;
// generated JSON stays far below this).
const JSONMaxDepth = 512

// JSON validator states.
const (
	jsTop         uint8 = iota // before the top-level object: whitespace or '{'
	jsValue                    // a value must come (after ':' or ',' in an array)
	jsArrFirst                 // after '[': a value or ']'
	jsObjFirst                 // after '{': a key or '}'
	jsObjKey                   // after ',' in an object: a key
	jsColon                    // after a key: ':'
	jsAfter                    // after a value in a container: ',' or the closing bracket
	jsDone                     // the top-level object closed: whitespace only
	jsString                   // inside a string (str lexes it)
	jsNumMinus                 // after '-': a digit must come
	jsNumZero                  // a leading 0: '.', 'e' or the end
	jsNumInt                   // integer digits
	jsNumDot                   // after '.': a digit must come
	jsNumFrac                  // fraction digits
	jsNumExp                   // after 'e': sign or digit
	jsNumExpSign               // after the exponent's sign: a digit must come
	jsNumExpDigit              // exponent digits
	jsLiteral                  // inside true, false or null; sub bytes matched
)

// jsonLiterals are the three literal names; JSONValidator.lit indexes it.
var jsonLiterals = [3]string{"true", "false", "null"}

// JSONValidator tracks a prefix of a JSON object text. The zero value is
// the empty prefix. It is a plain value: assigning it clones it.
type JSONValidator struct {
	state uint8
	sub   uint8 // jsLiteral: bytes matched
	lit   uint8 // jsLiteral: index into jsonLiterals
	key   bool  // the current string is an object key
	str   strLexer
	depth uint16
	// space counts the whitespace bytes in the current run between tokens;
	// maxSpace bounds it (0: no bound).
	space, maxSpace uint16
	// stack holds one bit per open container, 1 for an object, 0 for an
	// array; bit i is the container at depth i+1.
	stack [JSONMaxDepth / 64]uint64
}

// LimitSpace bounds each run of whitespace between JSON tokens (outside
// strings) to n bytes; n <= 0 removes the bound, which is the default.
func (v *JSONValidator) LimitSpace(n int) {
	v.maxSpace = uint16(min(max(n, 0), math.MaxUint16))
}

// Complete reports whether the prefix is a whole JSON object (possibly
// followed by whitespace).
func (v *JSONValidator) Complete() bool { return v.state == jsDone }

// InString reports whether the prefix ends inside a string, after a whole
// character (not inside an escape or a multi-byte character).
func (v *JSONValidator) InString() bool { return v.state == jsString && v.str.phase == strChar }

// Depth returns the number of open objects and arrays.
func (v *JSONValidator) Depth() int { return int(v.depth) }

// Feed appends b to the prefix and reports whether the result is still a
// prefix of a valid JSON object text. After a false return the validator's
// state is unspecified: feed a copy when the bytes are only a candidate.
func (v *JSONValidator) Feed(b []byte) bool {
	for _, c := range b {
		if !v.step(c) {
			return false
		}
	}
	return true
}

// Accepts reports whether b would keep the prefix valid, leaving v as it is.
func (v *JSONValidator) Accepts(b []byte) bool {
	t := *v
	return t.Feed(b)
}

// isSpace reports JSON whitespace (RFC 8259 section 2).
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isDigit reports an ASCII digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isHex reports an ASCII hexadecimal digit.
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// push opens a container.
func (v *JSONValidator) push(object bool) bool {
	if v.depth >= JSONMaxDepth {
		return false
	}
	w, bit := v.depth/64, uint64(1)<<(v.depth%64)
	if object {
		v.stack[w] |= bit
	} else {
		v.stack[w] &^= bit
	}
	v.depth++
	return true
}

// inObject reports whether the innermost open container is an object.
func (v *JSONValidator) inObject() bool {
	d := v.depth - 1
	return v.stack[d/64]&(uint64(1)<<(d%64)) != 0
}

// closeValue moves past a finished value: to jsDone at the top level, else
// to jsAfter.
func (v *JSONValidator) closeValue() {
	if v.depth == 0 {
		v.state = jsDone
	} else {
		v.state = jsAfter
	}
}

// step consumes one byte and counts whitespace between tokens: a space
// that leaves the validator outside a string (the states before jsString).
func (v *JSONValidator) step(c byte) bool {
	if !v.next(c) {
		return false
	}
	if isSpace(c) && v.state < jsString {
		v.space++
		return v.maxSpace == 0 || v.space <= v.maxSpace
	}
	v.space = 0
	return true
}

// next moves the automaton by one byte.
func (v *JSONValidator) next(c byte) bool {
	switch v.state {
	case jsTop:
		if isSpace(c) {
			return true
		}
		if c != '{' {
			return false
		}
		v.state = jsObjFirst
		return v.push(true)
	case jsValue:
		if isSpace(c) {
			return true
		}
		return v.startValue(c)
	case jsArrFirst:
		if isSpace(c) {
			return true
		}
		if c == ']' {
			v.depth--
			v.closeValue()
			return true
		}
		return v.startValue(c)
	case jsObjFirst, jsObjKey:
		switch {
		case isSpace(c):
			return true
		case c == '"':
			v.state, v.key = jsString, true
			return true
		case c == '}' && v.state == jsObjFirst:
			v.depth--
			v.closeValue()
			return true
		}
		return false
	case jsColon:
		if isSpace(c) {
			return true
		}
		if c != ':' {
			return false
		}
		v.state = jsValue
		return true
	case jsAfter:
		return v.after(c)
	case jsDone:
		return isSpace(c)
	case jsString:
		switch v.str.step(c) {
		case strBad:
			return false
		case strClose:
			if v.key {
				v.state = jsColon
			} else {
				v.closeValue()
			}
		}
		return true
	case jsNumMinus:
		switch {
		case c == '0':
			v.state = jsNumZero
		case isDigit(c):
			v.state = jsNumInt
		default:
			return false
		}
		return true
	case jsNumZero, jsNumInt:
		switch {
		case isDigit(c) && v.state == jsNumInt:
		case c == '.':
			v.state = jsNumDot
		case c == 'e' || c == 'E':
			v.state = jsNumExp
		default: // the number ended; c belongs to what follows
			v.state = jsAfter
			return v.after(c)
		}
		return true
	case jsNumDot:
		if !isDigit(c) {
			return false
		}
		v.state = jsNumFrac
		return true
	case jsNumFrac:
		switch {
		case isDigit(c):
		case c == 'e' || c == 'E':
			v.state = jsNumExp
		default:
			v.state = jsAfter
			return v.after(c)
		}
		return true
	case jsNumExp:
		switch {
		case c == '+' || c == '-':
			v.state = jsNumExpSign
		case isDigit(c):
			v.state = jsNumExpDigit
		default:
			return false
		}
		return true
	case jsNumExpSign:
		if !isDigit(c) {
			return false
		}
		v.state = jsNumExpDigit
		return true
	case jsNumExpDigit:
		if isDigit(c) {
			return true
		}
		v.state = jsAfter
		return v.after(c)
	case jsLiteral:
		lit := jsonLiterals[v.lit]
		if c != lit[v.sub] {
			return false
		}
		if v.sub++; int(v.sub) == len(lit) {
			v.closeValue()
		}
		return true
	}
	return false
}

// startValue consumes the first byte of a value.
func (v *JSONValidator) startValue(c byte) bool {
	switch {
	case c == '{':
		v.state = jsObjFirst
		return v.push(true)
	case c == '[':
		v.state = jsArrFirst
		return v.push(false)
	case c == '"':
		v.state, v.key = jsString, false
	case c == '-':
		v.state = jsNumMinus
	case c == '0':
		v.state = jsNumZero
	case isDigit(c):
		v.state = jsNumInt
	case c == 't':
		v.state, v.lit, v.sub = jsLiteral, 0, 1
	case c == 'f':
		v.state, v.lit, v.sub = jsLiteral, 1, 1
	case c == 'n':
		v.state, v.lit, v.sub = jsLiteral, 2, 1
	default:
		return false
	}
	return true
}

// after consumes a byte that follows a value inside a container (numbers
// are always inside one: the top level is an object).
func (v *JSONValidator) after(c byte) bool {
	switch {
	case isSpace(c):
		return true
	case c == ',':
		if v.inObject() {
			v.state = jsObjKey
		} else {
			v.state = jsValue
		}
		return true
	case c == '}' && v.inObject(), c == ']' && !v.inObject():
		v.depth--
		v.closeValue()
		return true
	}
	return false
}
