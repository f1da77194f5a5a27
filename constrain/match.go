// This file holds the schema matcher: a pushdown automaton over bytes that
// runs a compiled schema. Its state is a set of stacks of frames, one
// frame per open value (object, array, string, number, literal, tool-call
// sequence) with a few integers of progress each. A union (anyOf, type
// lists, $ref placeholders) is resolved when its value starts: the stack
// is copied for each alternative whose first byte matches, so the set
// holds one stack per reading of the text so far (usually one). A byte
// advances every stack; the stacks it breaks are dropped, and the text is
// a valid prefix while one stack lives.
//
// Every accepted prefix can be completed: object keys come from the
// properties still allowed in order, a closing bracket only once the
// required members or minItems are there, and a number digit only when a
// value in bounds remains reachable.

package constrain

import (
	"encoding/binary"
	"math"
	"slices"
)

// Limits of the matcher.
const (
	// maxDepth bounds the frames of one stack (nesting of values), which
	// also ends the descent of a recursive schema.
	maxDepth = 64
	// maxStacks bounds the readings of an ambiguous text; readings beyond
	// it are dropped (the text stays valid, only fewer continuations are
	// offered).
	maxStacks = 64
)

// frame is one open value.
type frame struct {
	node  int32 // node id; rootNode for the root frame
	phase uint8
	sp    uint8 // whitespace bytes in the current run
	neg   bool  // number: negative
	a     int32 // object: next property; array: items; string: characters or format position; literal: witness; seq/repeat: parts done
	b     int32 // object key, literal, separator: bytes matched; number: fraction or exponent digits; string: format scratch
	c     int32 // object: current property; string: format date
	v     float64
	str   strLexer // string: inside the quotes
}

// rootNode is the node id of the root frame.
const rootNode = -1

// Phases. The root frame: rStart before the value, rDone after it.
const (
	rStart uint8 = iota
	rDone
)

// Object phases.
const (
	oOpen  uint8 = iota // '{'
	oFirst              // after '{': a key or '}'
	oKey                // inside a listed key
	oColon              // after a key: ':'
	oValue              // after ':': the value
	oAfter              // after a value: ',' or '}'
	oNext               // after ',': a key
)

// Array phases.
const (
	aOpen  uint8 = iota // '['
	aFirst              // after '[': an item or ']'
	aAfter              // after an item: ',' or ']'
	aNext               // after ',': an item
)

// String phases.
const (
	sOpen   uint8 = iota // '"'
	sBody                // characters or the closing quote (str lexes them)
	sFormat              // a formatted string; a is the format position
)

// Number phases.
const (
	nStart    uint8 = iota // '-' or a digit
	nMinus                 // after '-'
	nZero                  // a leading 0
	nInt                   // integer digits (a of them, value v)
	nDot                   // after '.'
	nFrac                  // fraction digits (b of them)
	nExp                   // after 'e'
	nExpSign               // after the exponent's sign
	nExpDigit              // exponent digits
)

// Repeat phases.
const (
	pItem  uint8 = iota // an item must come
	pAfter              // after an item: the separator or the end
	pSep                // inside the separator
)

// stacks is a set of frame stacks in one slice: stack i is
// frames[ends[i-1]:ends[i]].
type stacks struct {
	frames []frame
	ends   []int32
}

func (s *stacks) reset() { s.frames, s.ends = s.frames[:0], s.ends[:0] }

func (s *stacks) stack(i int) []frame {
	start := int32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.frames[start:s.ends[i]]
}

// add appends a stack unless it is already there.
func (s *stacks) add(w []frame) {
	if len(s.ends) >= maxStacks {
		return
	}
	for i := range s.ends {
		if slices.Equal(s.stack(i), w) {
			return
		}
	}
	s.frames = append(s.frames, w...)
	s.ends = append(s.ends, int32(len(s.frames)))
}

func (s *stacks) copyFrom(o *stacks) {
	s.frames = append(s.frames[:0], o.frames...)
	s.ends = append(s.ends[:0], o.ends...)
}

// SchemaMatcher runs a compiled schema over bytes. It implements Matcher.
type SchemaMatcher struct {
	s    *Schema
	cur  stacks
	tmp  [2]stacks // results of the steps of Accepts and Feed
	work []frame
}

// NewMatcher starts a matcher at the beginning of a value of s.
func (s *Schema) NewMatcher() *SchemaMatcher {
	m := &SchemaMatcher{s: s}
	m.cur.add([]frame{{node: rootNode}})
	return m
}

// run feeds b to the current state and returns the resulting set (one of
// the scratch sets), empty when b breaks every stack.
func (m *SchemaMatcher) run(b []byte) *stacks {
	src := &m.cur
	for i, c := range b {
		dst := &m.tmp[i%2]
		dst.reset()
		for k := range src.ends {
			m.work = append(m.work[:0], src.stack(k)...)
			m.advance(m.work, c, dst)
		}
		if len(dst.ends) == 0 {
			return dst
		}
		src = dst
	}
	return src
}

// Accepts reports whether b keeps the text a valid prefix.
func (m *SchemaMatcher) Accepts(b []byte) bool { return len(m.run(b).ends) > 0 }

// Feed appends b and reports whether the text is still a valid prefix.
func (m *SchemaMatcher) Feed(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	r := m.run(b)
	if len(r.ends) == 0 {
		m.cur.reset()
		return false
	}
	m.cur.copyFrom(r)
	return true
}

// Complete reports whether the text is a whole value.
func (m *SchemaMatcher) Complete() bool {
	for k := range m.cur.ends {
		if m.canEnd(m.cur.stack(k)) {
			return true
		}
	}
	return false
}

// Done reports whether the value is complete and nothing may follow.
func (m *SchemaMatcher) Done() bool {
	for k := range m.cur.ends {
		w := m.cur.stack(k)
		if len(w) != 1 || w[0].phase != rDone {
			return false
		}
	}
	return len(m.cur.ends) > 0
}

// StringRoom reports whether the text ends inside a free string (no
// format, not a literal) after a whole character, and the characters left
// to its maxLength.
func (m *SchemaMatcher) StringRoom() (int, bool) {
	if len(m.cur.ends) != 1 {
		return 0, false
	}
	w := m.cur.stack(0)
	f := &w[len(w)-1]
	if f.node == rootNode || f.phase != sBody || f.str.phase != strChar {
		return 0, false
	}
	n := m.s.nodes[f.node]
	if n.kind != kString {
		return 0, false
	}
	if n.maxLen < 0 {
		return math.MaxInt, true
	}
	return n.maxLen - int(f.a), true
}

// AppendKey appends the state: every frame of every stack.
func (m *SchemaMatcher) AppendKey(b []byte) []byte {
	for k := range m.cur.ends {
		for _, f := range m.cur.stack(k) {
			b = binary.LittleEndian.AppendUint32(b, uint32(f.node))
			neg := byte(0)
			if f.neg {
				neg = 1
			}
			b = append(b, f.phase, f.sp, neg)
			b = binary.LittleEndian.AppendUint32(b, uint32(f.a))
			b = binary.LittleEndian.AppendUint32(b, uint32(f.b))
			b = binary.LittleEndian.AppendUint32(b, uint32(f.c))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f.v))
			b = append(b, f.str.phase, f.str.left, f.str.lo, f.str.hi)
		}
		b = append(b, 0xff)
	}
	return b
}

// canEnd reports whether stack w is a complete value: every open frame
// from the top down may end without another byte.
func (m *SchemaMatcher) canEnd(w []frame) bool {
	for i := len(w) - 1; i >= 0; i-- {
		f := &w[i]
		if f.node == rootNode {
			return f.phase == rDone
		}
		n := m.s.nodes[f.node]
		switch n.kind {
		case kNumber, kInteger:
			if !n.numberEnds(f) {
				return false
			}
		case kLiteral:
			if f.phase == 0 || !n.litComplete(f) {
				return false
			}
		case kSeq:
			if int(f.a) != len(n.alts) {
				return false
			}
		case kRepeat:
			if f.phase != pAfter || int(f.a) < n.min {
				return false
			}
		default:
			return false
		}
	}
	return false
}

// Results of one frame's step.
const (
	stay         = iota // consumed, the frame stays open
	reject              // the byte breaks this stack
	popConsumed         // consumed, and the frame's value is complete
	popPass             // complete before the byte: pass it to the parent
	pushChild           // the byte starts a child value
	pushKeyChars        // the byte opened a map key: push the key string past its quote
)

// Whitespace between tokens follows the ws rule of llama.cpp's JSON
// grammar (grammars/json.gbnf): one space, or a newline and at most
// maxIndent spaces or tabs (room for 2-space indentation 10 levels deep).
// The frame's sp records the run: 0 none, spSpace after a lone space, 1 +
// the indentation after a newline.
const (
	maxIndent = 20
	spSpace   = 0xff
)

// space takes a whitespace byte into f's run.
func space(f *frame, c byte) int {
	switch {
	case f.sp == 0 && c == ' ':
		f.sp = spSpace
	case f.sp == 0 && c == '\n':
		f.sp = 1
	case f.sp != 0 && f.sp != spSpace && f.sp <= maxIndent && (c == ' ' || c == '\t'):
		f.sp++
	default:
		return reject
	}
	return stay
}

// advance feeds c to stack w (a buffer the call may keep or grow) and adds
// the stacks that survive to out.
func (m *SchemaMatcher) advance(w []frame, c byte, out *stacks) {
	for {
		top := &w[len(w)-1]
		if top.node == rootNode {
			switch {
			case top.phase != rStart:
				return
			case isSpace(c):
				if space(top, c) == stay {
					out.add(w)
				}
				return
			}
			top.phase, top.sp = rDone, 0
			m.push(w, m.s.root, c, out)
			return
		}
		n := m.s.nodes[top.node]
		r, child := m.step(n, top, c)
		switch r {
		case stay:
			out.add(w)
			return
		case popConsumed:
			out.add(m.settle(w[:len(w)-1]))
			return
		case popPass:
			w = w[:len(w)-1]
		case pushChild:
			m.push(w, child, c, out)
			return
		case pushKeyChars:
			if len(w) < maxDepth {
				out.add(append(w, frame{node: m.s.keyID, phase: sBody}))
			}
			return
		default:
			return
		}
	}
}

// settle pops the sequence and repeat frames that a completed value
// finished, so that the end of a tool-call block shows at once.
func (m *SchemaMatcher) settle(w []frame) []frame {
	for len(w) > 1 {
		f := &w[len(w)-1]
		n := m.s.nodes[f.node]
		switch {
		case n.kind == kSeq && int(f.a) == len(n.alts):
		case n.kind == kRepeat && f.phase == pAfter && n.max >= 0 && int(f.a) >= n.max:
		default:
			return w
		}
		w = w[:len(w)-1]
	}
	return w
}

// push starts a value of n with byte c on top of w, one stack per
// alternative of a union that c can start.
func (m *SchemaMatcher) push(w []frame, n *node, c byte, out *stacks) {
	if !hasBit(&n.first, c) || len(w) >= maxDepth {
		return
	}
	if n.kind != kUnion {
		m.advance(append(w, frame{node: n.id}), c, out)
		return
	}
	last := -1
	for i, a := range n.alts {
		if hasBit(&a.first, c) {
			last = i
		}
	}
	for i, a := range n.alts[:last+1] {
		if !hasBit(&a.first, c) {
			continue
		}
		if i == last {
			m.push(w, a, c, out)
		} else {
			m.push(slices.Clone(w), a, c, out)
		}
	}
}

// step moves the top frame f of node n by byte c.
func (m *SchemaMatcher) step(n *node, f *frame, c byte) (int, *node) {
	switch n.kind {
	case kObject:
		return n.objectStep(f, c)
	case kArray:
		return n.arrayStep(f, c)
	case kString:
		return n.stringStep(f, c), nil
	case kNumber, kInteger:
		if f.phase != nStart && !isNumberByte(c) {
			if n.numberEnds(f) {
				return popPass, nil
			}
			return reject, nil
		}
		if !n.numberStep(f, c) {
			return reject, nil
		}
		return stay, nil
	case kLiteral:
		return n.literalStep(f, c), nil
	case kSeq:
		if int(f.a) == len(n.alts) {
			return popPass, nil
		}
		f.a++
		return pushChild, n.alts[f.a-1]
	case kRepeat:
		return n.repeatStep(f, c)
	}
	return reject, nil
}
