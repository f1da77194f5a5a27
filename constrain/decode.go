// This file decodes schema documents: JSON with numbers kept exact and
// each object's key order recorded (object members are generated in the
// order the schema lists its properties), and writes values back as
// canonical JSON text for enum and const.

package constrain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// orderKey is the entry under which decodeSchema records an object's keys
// in document order ([]string); no JSON text can produce it as a key
// because decodeSchema refuses keys with a NUL byte.
const orderKey = "\x00order"

// decodeSchema decodes a schema document with numbers kept exact and each
// object's key order recorded under orderKey.
func decodeSchema(src []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	doc, err := decodeValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: not valid JSON: %w", ErrSchema, err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("%w: data after the schema", ErrSchema)
	}
	return doc, nil
}

// maxSchemaDepth bounds the nesting of a schema document.
const maxSchemaDepth = 128

// decodeValue reads one JSON value from dec.
func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxSchemaDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxSchemaDepth)
	}
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t {
	case json.Delim('{'):
		m := map[string]any{}
		var keys []string
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string)
			if strings.IndexByte(k, 0) >= 0 {
				return nil, fmt.Errorf("key %q holds a NUL character", k)
			}
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("duplicate key %q", k)
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = v
			keys = append(keys, k)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		m[orderKey] = keys
		return m, nil
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return list, nil
	}
	return t, nil
}

// strip returns v without the recorded key orders.
func strip(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if k != orderKey {
				out[k] = strip(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = strip(x)
		}
		return out
	}
	return v
}

// canonical returns the compact JSON text of a decoded value, object keys
// sorted, without HTML escaping.
func canonical(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(strip(v)); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
