// This file holds Compile and the node graph it builds from a JSON Schema
// for the schema matcher (the document is decoded in decode.go and walked
// in compile.go and compiletypes.go). The subset is what OpenAI's structured outputs accept, and a
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
	"errors"
	"fmt"
	"slices"
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
	if !c.prune()[root.id] {
		return nil, fmt.Errorf("%w: no finite value satisfies the schema (a $ref cycle through required properties or minItems)", ErrSchema)
	}
	return &Schema{root: root, nodes: c.nodes, keyID: c.key.id}, nil
}

// prune finds the nodes that have a finite value (a least fixed point:
// a required $ref cycle has none) and removes the choices that lead only
// to nodes without one (union alternatives, optional properties, array
// items and map values where none may be written), so that the matcher
// never starts a value it cannot finish. It returns which nodes have a
// finite value.
func (c *graph) prune() []bool {
	ok := make([]bool, len(c.nodes))
	productive := func(n *node) bool {
		switch n.kind {
		case kObject:
			for _, p := range n.props {
				if p.required && !ok[p.value.id] {
					return false
				}
			}
		case kArray:
			return n.minItems == 0 || ok[n.items.id]
		case kUnion:
			return slices.ContainsFunc(n.alts, func(a *node) bool { return ok[a.id] })
		case kSeq:
			return !slices.ContainsFunc(n.alts, func(a *node) bool { return !ok[a.id] })
		case kRepeat:
			return n.min == 0 || ok[n.alts[0].id]
		}
		return true
	}
	for changed := true; changed; {
		changed = false
		for _, n := range c.nodes {
			if !ok[n.id] && productive(n) {
				ok[n.id], changed = true, true
			}
		}
	}
	for _, n := range c.nodes {
		switch n.kind {
		case kUnion:
			n.alts = slices.DeleteFunc(n.alts, func(a *node) bool { return !ok[a.id] })
		case kObject:
			n.props = slices.DeleteFunc(n.props, func(p prop) bool { return !p.required && !ok[p.value.id] })
			n.reqFrom = requiredFrom(n.props)
			if n.mapValue != nil && !ok[n.mapValue.id] {
				n.mapValue = nil
			}
		case kArray:
			if !ok[n.items.id] {
				n.maxItems = 0
			}
		case kRepeat:
			if !ok[n.alts[0].id] {
				n.max = 0
			}
		}
	}
	return ok
}

// requiredFrom returns, for each index i of props and len(props), the
// index of the first required property at or after i (len(props) if
// none).
func requiredFrom(props []prop) []int {
	r := make([]int, len(props)+1)
	r[len(props)] = len(props)
	for i := len(props) - 1; i >= 0; i-- {
		r[i] = r[i+1]
		if props[i].required {
			r[i] = i
		}
	}
	return r
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
