// This file walks a schema document: which keywords are read and which are
// annotations, $ref resolution, unions, enum and const.

package constrain

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// annotations are keywords that do not constrain values.
var annotations = map[string]bool{
	"title": true, "description": true, "$schema": true, "$id": true, "$comment": true, "default": true,
	"examples": true, "deprecated": true, "readOnly": true, "writeOnly": true, "$anchor": true,
	"contentMediaType": true, "contentEncoding": true,
	// OpenAPI 3.0's nullable is not JSON Schema: validators ignore it.
	// Generating the non-null values only keeps the output valid under
	// either reading.
	"nullable": true,
}

// keywords are the constraining keywords compile reads.
var keywords = map[string]bool{
	"type": true, "properties": true, "required": true, "additionalProperties": true, "items": true,
	"minItems": true, "maxItems": true, "enum": true, "const": true, "anyOf": true, "oneOf": true,
	"$ref": true, "$defs": true, "definitions": true, "format": true, "minLength": true, "maxLength": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"uniqueItems": true,
}

// compile compiles the schema s found at JSON pointer path.
func (c *compiler) compile(s any, path string) (*node, error) {
	switch s := s.(type) {
	case bool:
		if !s {
			return nil, fmt.Errorf("%w: %s: schema false allows no value", ErrSchema, where(path))
		}
		return c.anyValue()
	case map[string]any:
		return c.compileObject(s, path)
	}
	return nil, fmt.Errorf("%w: %s: a schema must be an object or a boolean", ErrSchema, where(path))
}

// where names a schema location for errors.
func where(path string) string {
	if path == "" {
		return "at the root"
	}
	return "at " + path
}

// compileObject compiles a schema object.
func (c *compiler) compileObject(s map[string]any, path string) (*node, error) {
	keys, _ := s[orderKey].([]string)
	for _, k := range keys {
		if !keywords[k] && !annotations[k] {
			return nil, fmt.Errorf("%w: %s: unsupported keyword %q", ErrSchema, where(path), k)
		}
	}
	if u, ok := s["uniqueItems"]; ok && u != false {
		return nil, fmt.Errorf("%w: %s: unsupported keyword \"uniqueItems\" (only false)", ErrSchema, where(path))
	}
	if ref, ok := s["$ref"]; ok {
		for _, k := range keys {
			if keywords[k] && k != "$ref" && k != "$defs" && k != "definitions" {
				return nil, fmt.Errorf("%w: %s: keyword %q beside $ref is not supported", ErrSchema, where(path), k)
			}
		}
		r, ok := ref.(string)
		if !ok {
			return nil, fmt.Errorf("%w: %s: $ref must be a string", ErrSchema, where(path))
		}
		return c.ref(r, path)
	}
	var n *node
	var err error
	switch {
	case s["const"] != nil || hasKey(s, "const"):
		n, err = c.literals([]any{s["const"]}, s, path)
	case hasKey(s, "enum"):
		list, ok := s["enum"].([]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s: enum must be an array", ErrSchema, where(path))
		}
		n, err = c.literals(list, s, path)
	case hasKey(s, "anyOf") || hasKey(s, "oneOf"):
		n, err = c.union(s, path)
	default:
		n, err = c.typed(s, path)
	}
	return n, err
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// ref resolves a $ref within the document: "#", "#/$defs/Name",
// "#/definitions/Name" or any JSON pointer into the document.
func (c *compiler) ref(r, path string) (*node, error) {
	if n, ok := c.refs[r]; ok {
		return n, nil
	}
	if !strings.HasPrefix(r, "#") {
		return nil, fmt.Errorf("%w: %s: $ref %q: only references within the schema (#...) are supported", ErrSchema, where(path), r)
	}
	target := c.doc
	ptr := strings.TrimPrefix(r, "#")
	if ptr != "" {
		if !strings.HasPrefix(ptr, "/") {
			return nil, fmt.Errorf("%w: %s: $ref %q is not a JSON pointer", ErrSchema, where(path), r)
		}
		for _, tok := range strings.Split(ptr[1:], "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			m, ok := target.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: %s: $ref %q does not resolve", ErrSchema, where(path), r)
			}
			if target, ok = m[tok]; !ok {
				return nil, fmt.Errorf("%w: %s: $ref %q does not resolve", ErrSchema, where(path), r)
			}
		}
	}
	// A placeholder union of one alternative stands for the target while
	// it compiles, so that a reference back to it closes the cycle.
	n, err := c.newNode(kUnion)
	if err != nil {
		return nil, err
	}
	c.refs[r] = n
	t, err := c.compile(target, ptr)
	if err != nil {
		return nil, err
	}
	n.alts = []*node{t}
	return n, nil
}

// union compiles anyOf or oneOf (treated alike).
func (c *compiler) union(s map[string]any, path string) (*node, error) {
	if hasKey(s, "anyOf") && hasKey(s, "oneOf") {
		return nil, fmt.Errorf("%w: %s: anyOf and oneOf together are not supported", ErrSchema, where(path))
	}
	kw := "anyOf"
	if hasKey(s, "oneOf") {
		kw = "oneOf"
	}
	for _, k := range []string{"type", "properties", "items", "format", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "required", "additionalProperties"} {
		if hasKey(s, k) {
			return nil, fmt.Errorf("%w: %s: keyword %q beside %s is not supported", ErrSchema, where(path), k, kw)
		}
	}
	list, ok := s[kw].([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("%w: %s: %s must be a non-empty array", ErrSchema, where(path), kw)
	}
	u, err := c.newNode(kUnion)
	if err != nil {
		return nil, err
	}
	for i, a := range list {
		n, err := c.compile(a, fmt.Sprintf("%s/%s/%d", path, kw, i))
		if err != nil {
			return nil, err
		}
		u.alts = append(u.alts, n)
	}
	return u, nil
}

// literals compiles enum or const: each value as its compact JSON text.
func (c *compiler) literals(values []any, s map[string]any, path string) (*node, error) {
	for _, k := range []string{"properties", "items", "format", "minimum", "maximum", "minLength", "maxLength", "anyOf", "oneOf"} {
		if hasKey(s, k) {
			return nil, fmt.Errorf("%w: %s: keyword %q beside enum/const is not supported", ErrSchema, where(path), k)
		}
	}
	n, err := c.newNode(kLiteral)
	if err != nil {
		return nil, err
	}
	for _, v := range values {
		if t, ok := s["type"]; ok && !typeAllows(t, v) {
			continue // an enum value the type excludes can never validate
		}
		text, err := canonical(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: enum value: %w", ErrSchema, where(path), err)
		}
		if !slices.Contains(n.lits, text) {
			n.lits = append(n.lits, text)
		}
	}
	if len(n.lits) == 0 {
		return nil, fmt.Errorf("%w: %s: enum/const allows no value of the given type", ErrSchema, where(path))
	}
	return n, nil
}

// literal returns a node for one JSON text.
func (c *graph) literal(text string) (*node, error) {
	n, err := c.newNode(kLiteral)
	if err != nil {
		return nil, err
	}
	n.lits = []string{text}
	return n, nil
}

// typeAllows reports whether a type keyword (a name or a list) admits v.
func typeAllows(t any, v any) bool {
	names := []any{t}
	if l, ok := t.([]any); ok {
		names = l
	}
	for _, x := range names {
		name, _ := x.(string)
		switch v := v.(type) {
		case nil:
			if name == "null" {
				return true
			}
		case bool:
			if name == "boolean" {
				return true
			}
		case string:
			if name == "string" {
				return true
			}
		case json.Number:
			if name == "number" {
				return true
			}
			if name == "integer" && isInteger(v) {
				return true
			}
		case []any:
			if name == "array" {
				return true
			}
		case map[string]any:
			if name == "object" {
				return true
			}
		}
	}
	return false
}

// isInteger reports whether a JSON number is an integer.
func isInteger(v json.Number) bool {
	f, err := strconv.ParseFloat(string(v), 64)
	return err == nil && f == math.Trunc(f)
}
