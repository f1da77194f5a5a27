// This file compiles the typed schemas: objects, arrays, strings, numbers
// and integers, and the node for any JSON value.

package constrain

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// typed compiles a schema by its type keyword: one type, a list of types
// (a union), or none (the type follows from the keywords present, else
// any value).
func (c *compiler) typed(s map[string]any, path string) (*node, error) {
	t, ok := s["type"]
	if !ok {
		switch {
		case hasKey(s, "properties") || hasKey(s, "required") || hasKey(s, "additionalProperties"):
			t = "object"
		case hasKey(s, "items") || hasKey(s, "minItems") || hasKey(s, "maxItems"):
			t = "array"
		case hasKey(s, "format") || hasKey(s, "minLength") || hasKey(s, "maxLength"):
			t = "string"
		case hasKey(s, "minimum") || hasKey(s, "maximum") || hasKey(s, "exclusiveMinimum") || hasKey(s, "exclusiveMaximum"):
			t = "number"
		default:
			return c.anyValue()
		}
	}
	if list, ok := t.([]any); ok {
		if len(list) == 0 {
			return nil, fmt.Errorf("%w: %s: type list is empty", ErrSchema, where(path))
		}
		if len(list) == 1 {
			return c.typed(withType(s, list[0]), path)
		}
		u, err := c.newNode(kUnion)
		if err != nil {
			return nil, err
		}
		for _, x := range list {
			n, err := c.typed(withType(s, x), path)
			if err != nil {
				return nil, err
			}
			u.alts = append(u.alts, n)
		}
		return u, nil
	}
	name, ok := t.(string)
	if !ok {
		return nil, fmt.Errorf("%w: %s: type must be a string or a list of strings", ErrSchema, where(path))
	}
	switch name {
	case "object":
		return c.object(s, path)
	case "array":
		return c.array(s, path)
	case "string":
		return c.str(s, path)
	case "number", "integer":
		return c.number(s, name == "integer", path)
	case "boolean":
		n, err := c.newNode(kLiteral)
		if err == nil {
			n.lits = []string{"true", "false"}
		}
		return n, err
	case "null":
		return c.literal("null")
	}
	return nil, fmt.Errorf("%w: %s: unknown type %q", ErrSchema, where(path), name)
}

// withType returns s with its type replaced.
func withType(s map[string]any, t any) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = v
	}
	out["type"] = t
	return out
}

// object compiles an object schema.
func (c *compiler) object(s map[string]any, path string) (*node, error) {
	n, err := c.newNode(kObject)
	if err != nil {
		return nil, err
	}
	var props map[string]any
	if p, ok := s["properties"]; ok {
		if props, ok = p.(map[string]any); !ok {
			return nil, fmt.Errorf("%w: %s: properties must be an object", ErrSchema, where(path))
		}
	}
	required := map[string]bool{}
	if r, ok := s["required"]; ok {
		list, ok := r.([]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s: required must be an array of strings", ErrSchema, where(path))
		}
		for _, x := range list {
			name, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%w: %s: required must be an array of strings", ErrSchema, where(path))
			}
			if _, listed := props[name]; !listed || name == orderKey {
				return nil, fmt.Errorf("%w: %s: required property %q is not in properties", ErrSchema, where(path), name)
			}
			required[name] = true
		}
	}
	if len(propertyOrder(props)) > maxProps {
		return nil, fmt.Errorf("%w: %s: more than %d properties", ErrSchema, where(path), maxProps)
	}
	for _, name := range propertyOrder(props) {
		v, err := c.compile(props[name], path+"/properties/"+name)
		if err != nil {
			return nil, err
		}
		key, err := canonical(name)
		if err != nil {
			return nil, err
		}
		n.props = append(n.props, prop{name: name, key: key, value: v, required: required[name]})
	}
	n.reqFrom = requiredFrom(n.props)
	if len(n.props) == 0 {
		ap, ok := s["additionalProperties"]
		switch {
		case !ok || ap == true:
			n.mapValue, err = c.anyValue()
		case ap == false:
		default:
			n.mapValue, err = c.compile(ap, path+"/additionalProperties")
		}
		if err != nil {
			return nil, err
		}
	} else if ap, ok := s["additionalProperties"]; ok && ap != false && ap != true {
		// Validate the schema even though only listed properties are
		// generated.
		if _, err := c.compile(ap, path+"/additionalProperties"); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// propertyOrder returns the property names in the order the schema text
// lists them.
func propertyOrder(props map[string]any) []string {
	o, _ := props[orderKey].([]string)
	return o
}

// array compiles an array schema.
func (c *compiler) array(s map[string]any, path string) (*node, error) {
	n, err := c.newNode(kArray)
	if err != nil {
		return nil, err
	}
	if it, ok := s["items"]; ok {
		if _, isList := it.([]any); isList {
			return nil, fmt.Errorf("%w: %s: items as a list (tuple) is not supported", ErrSchema, where(path))
		}
		n.items, err = c.compile(it, path+"/items")
	} else {
		n.items, err = c.anyValue()
	}
	if err != nil {
		return nil, err
	}
	if n.minItems, err = count(s, "minItems", 0, path); err != nil {
		return nil, err
	}
	if n.maxItems, err = count(s, "maxItems", -1, path); err != nil {
		return nil, err
	}
	return n, nil
}

// count reads a non-negative integer keyword, def when absent.
func count(s map[string]any, kw string, def int, path string) (int, error) {
	v, ok := s[kw]
	if !ok {
		return def, nil
	}
	num, ok := v.(json.Number)
	i, err := strconv.Atoi(string(num))
	if !ok || err != nil || i < 0 || i > 1<<30 {
		return 0, fmt.Errorf("%w: %s: %s must be a non-negative integer", ErrSchema, where(path), kw)
	}
	return i, nil
}

// str compiles a string schema.
func (c *compiler) str(s map[string]any, path string) (*node, error) {
	n, err := c.newNode(kString)
	if err != nil {
		return nil, err
	}
	if n.minLen, err = count(s, "minLength", 0, path); err != nil {
		return nil, err
	}
	if n.maxLen, err = count(s, "maxLength", -1, path); err != nil {
		return nil, err
	}
	if f, ok := s["format"]; ok {
		name, _ := f.(string)
		switch name {
		case "date":
			n.format = fmtDate
		case "date-time":
			n.format = fmtDateTime
		case "time":
			n.format = fmtTime
		case "uuid":
			n.format = fmtUUID
		default:
			return nil, fmt.Errorf("%w: %s: unsupported keyword value \"format\": %q (supported: date, date-time, time, uuid)", ErrSchema, where(path), name)
		}
	}
	return n, nil
}

// number compiles a number or integer schema.
func (c *compiler) number(s map[string]any, integer bool, path string) (*node, error) {
	k := kNumber
	if integer {
		k = kInteger
	}
	n, err := c.newNode(k)
	if err != nil {
		return nil, err
	}
	bound := func(kw string) (float64, bool, error) {
		v, ok := s[kw]
		if !ok {
			return 0, false, nil
		}
		num, isNum := v.(json.Number)
		f, err := strconv.ParseFloat(string(num), 64)
		if !isNum || err != nil || math.IsInf(f, 0) {
			return 0, false, fmt.Errorf("%w: %s: %s must be a finite number", ErrSchema, where(path), kw)
		}
		return f, true, nil
	}
	var lo, hi, xlo, xhi float64
	var hasXlo, hasXhi bool
	if lo, n.hasLo, err = bound("minimum"); err != nil {
		return nil, err
	}
	if hi, n.hasHi, err = bound("maximum"); err != nil {
		return nil, err
	}
	if xlo, hasXlo, err = bound("exclusiveMinimum"); err != nil {
		return nil, err
	}
	if xhi, hasXhi, err = bound("exclusiveMaximum"); err != nil {
		return nil, err
	}
	n.lo, n.hi = lo, hi
	if hasXlo && (!n.hasLo || xlo >= lo) {
		n.lo, n.hasLo, n.loExcl = xlo, true, true
	}
	if hasXhi && (!n.hasHi || xhi <= hi) {
		n.hi, n.hasHi, n.hiExcl = xhi, true, true
	}
	if integer {
		// Integer bounds are whole numbers, inclusive.
		if n.hasLo {
			v := math.Ceil(n.lo)
			if n.loExcl && v == n.lo {
				v++
			}
			n.lo, n.loExcl = v, false
		}
		if n.hasHi {
			v := math.Floor(n.hi)
			if n.hiExcl && v == n.hi {
				v--
			}
			n.hi, n.hiExcl = v, false
		}
	}
	if (n.hasLo && math.Abs(n.lo) > maxBound) || (n.hasHi && math.Abs(n.hi) > maxBound) {
		return nil, fmt.Errorf("%w: %s: bounds beyond ±%g are not supported", ErrSchema, where(path), maxBound)
	}
	return n, nil
}

// anyValue returns the node for any JSON value: a union of a map of any
// values, an array of any values, a string, a number and the literals.
func (c *graph) anyValue() (*node, error) {
	if c.any != nil {
		return c.any, nil
	}
	u, err := c.newNode(kUnion)
	if err != nil {
		return nil, err
	}
	c.any = u
	obj, err := c.newNode(kObject)
	if err != nil {
		return nil, err
	}
	obj.mapValue, obj.reqFrom = u, []int{0}
	arr, err := c.newNode(kArray)
	if err != nil {
		return nil, err
	}
	arr.items = u
	str, err := c.newNode(kString)
	if err != nil {
		return nil, err
	}
	num, err := c.newNode(kNumber)
	if err != nil {
		return nil, err
	}
	lit, err := c.newNode(kLiteral)
	if err != nil {
		return nil, err
	}
	lit.lits = []string{"true", "false", "null"}
	u.alts = []*node{obj, arr, str, num, lit}
	return u, nil
}
