// This file compiles a JSON Schema into the node graph the schema matcher
// runs. The subset is what OpenAI's structured outputs accept, and a
// little more: objects (properties, required, additionalProperties),
// arrays (items, minItems, maxItems), strings (enum, const, format date,
// date-time, time, uuid, minLength, maxLength), numbers and integers
// (minimum, maximum, exclusiveMinimum, exclusiveMaximum), booleans, null,
// enum and const of any JSON value, anyOf and oneOf, type lists (nullable
// types), and $ref to $defs/definitions or the root, recursive or not.
// Annotations (title, description, examples, ...) are ignored; any other
// keyword is an error naming it, never silently dropped.
//
// What the matcher generates is a subset of what the schema allows, in a
// fixed shape: object members in the order the schema lists them (OpenAI
// strict mode), only listed properties when there are any, numbers within
// bounded digits. oneOf is treated as anyOf: a generated value matches at
// least one alternative, exactly one when the alternatives are disjoint.

package constrain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrSchema reports a schema that cannot be compiled: malformed, or using
// a keyword outside the supported subset (the error names it).
var ErrSchema = errors.New("constrain: schema")

// Limits of a compiled schema.
const (
	// maxNodes bounds the nodes of one schema, so that a huge schema
	// cannot cost unbounded memory.
	maxNodes = 10000
	// maxProps bounds the properties of one object (OpenAI allows 100
	// properties per object in structured outputs; 5000 in total).
	maxProps = 1000
)

// kind is the shape of a node.
type kind uint8

const (
	kObject  kind = iota // an object with listed properties, or a map
	kArray               // an array
	kString              // a string
	kNumber              // a number
	kInteger             // an integer
	kLiteral             // one of a list of exact JSON texts (enum, const, booleans, null)
	kUnion               // any of several nodes (anyOf, oneOf, type lists)
	kSeq                 // nodes one after the other (tool-call blocks)
	kRepeat              // one node repeated with a separator (parallel tool calls)
)

// format is a string format the matcher enforces.
type format uint8

const (
	fmtNone format = iota
	fmtDate
	fmtDateTime
	fmtTime
	fmtUUID
)

// node is a compiled schema. Nodes form a graph (a $ref cycle is a cycle
// of pointers); id indexes Schema.nodes.
type node struct {
	id   int32
	kind kind

	// kObject: props in schema order; reqFrom[i] is the index of the
	// first required property at or after i (len(props) if none). With
	// no props and mapValue set, the object is a map of string keys to
	// mapValue.
	props    []prop
	reqFrom  []int
	mapValue *node

	// kArray: items (any value when nil is not possible: compile sets
	// it), minItems and maxItems (-1: no bound).
	items              *node
	minItems, maxItems int

	// kString: length bounds in characters (maxLen -1: none) and format.
	minLen, maxLen int
	format         format

	// kNumber, kInteger: bounds.
	lo, hi         float64
	hasLo, hasHi   bool
	loExcl, hiExcl bool

	// kLiteral: the JSON texts.
	lits []string

	// kUnion, kSeq: the alternatives or parts; kRepeat: alts[0] repeated
	// between min and max (-1: no bound) times, separated by sep.
	alts     []*node
	sep      string
	min, max int

	// first is the set of bytes a value of the node can start with.
	first [4]uint64
}

// prop is one property of an object node.
type prop struct {
	name     string
	key      string // the name as a JSON string, quotes included
	value    *node
	required bool
}

// Schema is a compiled schema; it is immutable and safe to share.
type Schema struct {
	root  *node
	nodes []*node
	keyID int32 // the node of map keys
}

// graph is the node graph being built; several documents (the tools'
// parameter schemas) may compile into one.
type graph struct {
	nodes []*node
	any   *node // the node for any JSON value, built on first use
	key   *node // a free string: the keys of map objects
}

// compiler compiles one document into a graph.
type compiler struct {
	*graph
	doc  any
	refs map[string]*node
}

// Compile compiles a JSON Schema document.
func Compile(src []byte) (*Schema, error) {
	doc, err := decodeSchema(src)
	if err != nil {
		return nil, err
	}
	g, err := newGraph()
	if err != nil {
		return nil, err
	}
	root, err := g.compileDoc(doc, "")
	if err != nil {
		return nil, err
	}
	return g.finish(root)
}

// newGraph starts a graph with its key node.
func newGraph() (*graph, error) {
	g := &graph{}
	var err error
	g.key, err = g.newNode(kString)
	return g, err
}

// compileDoc compiles a decoded document into the graph; path prefixes
// its locations in errors.
func (g *graph) compileDoc(doc any, path string) (*node, error) {
	c := &compiler{graph: g, doc: doc, refs: map[string]*node{}}
	return c.compile(doc, path)
}

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

// finish computes first sets and checks that no union reaches itself
// without consuming a byte.
func (c *graph) finish(root *node) (*Schema, error) {
	state := make([]uint8, len(c.nodes)) // 0 new, 1 visiting, 2 done
	var first func(n *node) error
	first = func(n *node) error {
		switch state[n.id] {
		case 1:
			return fmt.Errorf("%w: a $ref cycle through anyOf/oneOf never reaches an object or array", ErrSchema)
		case 2:
			return nil
		}
		state[n.id] = 1
		switch n.kind {
		case kObject:
			setBit(&n.first, '{')
		case kArray:
			setBit(&n.first, '[')
		case kString:
			setBit(&n.first, '"')
		case kNumber, kInteger:
			setBit(&n.first, '-')
			for d := byte('0'); d <= '9'; d++ {
				setBit(&n.first, d)
			}
		case kLiteral:
			for _, l := range n.lits {
				setBit(&n.first, l[0])
			}
		case kUnion, kSeq, kRepeat:
			alts := n.alts
			if n.kind != kUnion {
				alts = alts[:1]
			}
			for _, a := range alts {
				if err := first(a); err != nil {
					return err
				}
				for i := range n.first {
					n.first[i] |= a.first[i]
				}
			}
		}
		state[n.id] = 2
		return nil
	}
	for _, n := range c.nodes {
		if err := first(n); err != nil {
			return nil, err
		}
	}
	for _, n := range c.nodes {
		if err := n.check(); err != nil {
			return nil, err
		}
	}
	return &Schema{root: root, nodes: c.nodes, keyID: c.key.id}, nil
}

// check refuses nodes no value can satisfy.
func (n *node) check() error {
	switch {
	case n.kind == kArray && n.maxItems >= 0 && n.minItems > n.maxItems:
		return fmt.Errorf("%w: minItems %d > maxItems %d", ErrSchema, n.minItems, n.maxItems)
	case n.kind == kString && n.maxLen >= 0 && n.minLen > n.maxLen:
		return fmt.Errorf("%w: minLength %d > maxLength %d", ErrSchema, n.minLen, n.maxLen)
	case n.kind == kString && n.format != fmtNone && ((n.maxLen >= 0 && n.maxLen < formatMax[n.format]) || n.minLen > formatMin[n.format]):
		return fmt.Errorf("%w: minLength/maxLength beside format %q are not supported", ErrSchema, formatName[n.format])
	case (n.kind == kNumber || n.kind == kInteger) && !n.boundsOK():
		return fmt.Errorf("%w: no %s lies between minimum and maximum", ErrSchema, map[kind]string{kNumber: "number", kInteger: "integer"}[n.kind])
	case n.kind == kLiteral && len(n.lits) == 0:
		return fmt.Errorf("%w: enum is empty", ErrSchema)
	case n.kind == kUnion && len(n.alts) == 0:
		return fmt.Errorf("%w: anyOf/oneOf is empty", ErrSchema)
	}
	return nil
}

func setBit(s *[4]uint64, c byte)      { s[c/64] |= 1 << (c % 64) }
func hasBit(s *[4]uint64, c byte) bool { return s[c/64]&(1<<(c%64)) != 0 }

// newNode adds a node to the graph.
func (c *graph) newNode(k kind) (*node, error) {
	if len(c.nodes) >= maxNodes {
		return nil, fmt.Errorf("%w: more than %d nodes", ErrSchema, maxNodes)
	}
	n := &node{id: int32(len(c.nodes)), kind: k, maxItems: -1, maxLen: -1}
	c.nodes = append(c.nodes, n)
	return n, nil
}

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
	n.reqFrom = make([]int, len(n.props)+1)
	n.reqFrom[len(n.props)] = len(n.props)
	for i := len(n.props) - 1; i >= 0; i-- {
		n.reqFrom[i] = n.reqFrom[i+1]
		if n.props[i].required {
			n.reqFrom[i] = i
		}
	}
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
