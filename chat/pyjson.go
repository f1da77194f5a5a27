// This file re-serializes JSON the way Python's json.dumps does with the
// arguments Hugging Face's chat-template `tojson` filter passes
// (ensure_ascii=False, default separators ", " and ": ", no indent, keys in
// their original order). Templates render tool definitions and tool-call
// arguments through that filter, so a byte-exact prompt needs the same text.

package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// maxJSONDepth bounds the nesting of values PythonJSON accepts. Python's
// json module recurses once per level and stops near its default recursion
// limit of 1000; 512 keeps well inside that and bounds our own recursion.
const maxJSONDepth = 512

// PythonJSON parses the JSON text src and serializes it again as Python's
// json.dumps(value, ensure_ascii=False) would after json.loads: object keys
// keep their first position (a repeated key takes its last value, as a Python
// dict does), integers keep their digits, other numbers are printed as
// Python's float repr, and strings are escaped as Python escapes them.
func PythonJSON(src []byte) (string, error) {
	s, err := pythonJSON(src)
	if err != nil {
		return "", fmt.Errorf("chat: json: %w", err)
	}
	return s, nil
}

// pythonJSON is PythonJSON with errors that callers prefix themselves.
func pythonJSON(src []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	v, err := readPyValue(dec, 0)
	if err != nil {
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("trailing data after the JSON value")
	}
	var b strings.Builder
	writePyValue(&b, v)
	return b.String(), nil
}

// pyObject is a JSON object with its keys in first-seen order.
type pyObject struct {
	keys []string
	vals map[string]any
}

// readPyValue reads one JSON value into string, json.Number, bool, nil,
// []any or *pyObject.
func readPyValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("nesting deeper than %d", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("unexpected end of input")
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := readPyValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		case '{':
			obj := &pyObject{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %v, not a string", kt)
				}
				v, err := readPyValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if _, seen := obj.vals[k]; !seen {
					obj.keys = append(obj.keys, k)
				}
				obj.vals[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return obj, nil
		}
		return nil, fmt.Errorf("unexpected %q", t)
	default:
		return t, nil
	}
}

// writePyValue writes v in json.dumps's default style.
func writePyValue(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writePyString(b, t)
	case json.Number:
		b.WriteString(pyNumber(string(t)))
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyValue(b, e)
		}
		b.WriteByte(']')
	case *pyObject:
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyString(b, k)
			b.WriteString(": ")
			writePyValue(b, t.vals[k])
		}
		b.WriteByte('}')
	}
}

// writePyString writes s quoted as json.dumps(s, ensure_ascii=False) does:
// backslash, quote and the control characters below U+0020 are escaped
// (\b \f \n \r \t by name, the rest as \u00xx in lower-case hex); everything
// else, DEL and non-ASCII included, is written as is.
func writePyString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// pyNumber converts a JSON number literal to the text Python prints for the
// value json.loads makes of it: a literal without fraction or exponent is an
// int (digits kept, "-0" becomes "0"); any other is a float printed by repr.
func pyNumber(lit string) string {
	if !strings.ContainsAny(lit, ".eE") {
		digits := strings.TrimPrefix(lit, "-")
		if strings.Trim(digits, "0") == "" {
			return "0"
		}
		return lit
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return lit // unreachable for literals the decoder accepted
	}
	return pyFloatRepr(f)
}

// pyFloatRepr formats f as Python's repr(float) does: the shortest digits
// that round-trip, positional notation when the decimal exponent is in
// [-4, 16) with ".0" added to integral values, scientific notation otherwise
// with a signed exponent of at least two digits ("1e-05", "1.5e+16").
// Infinities print as json.dumps prints them.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // "-d.ddde±XX"
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		switch {
		case exp < 0:
			out = "0." + strings.Repeat("0", -exp-1) + digits
		case exp+1 >= len(digits):
			out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
		default:
			out = digits[:exp+1] + "." + digits[exp+1:]
		}
	} else {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		out = fmt.Sprintf("%se%s%02d", m, sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}
