// This file holds how each kind of frame of the schema matcher moves by
// one byte: objects (keys from the properties still allowed, in order),
// arrays, strings (free or formatted), literals (enum and const, several
// candidates at once) and repeats (tool-call blocks).

package constrain

// objectStep moves an object frame.
func (n *node) objectStep(f *frame, c byte) (int, *node) {
	isMap := len(n.props) == 0 && n.mapValue != nil
	if f.phase != oOpen && f.phase != oKey && isSpace(c) {
		return space(f, c), nil
	}
	f.sp = 0
	switch f.phase {
	case oOpen:
		if c != '{' {
			return reject, nil
		}
		f.phase = oFirst
		return stay, nil
	case oFirst, oNext:
		switch {
		case c == '}' && f.phase == oFirst && n.closable(f):
			return popConsumed, nil
		case c == '"' && isMap:
			f.phase = oColon
			return pushKeyChars, nil
		case c == '"' && int(f.a) < len(n.props):
			f.phase, f.c, f.b = oKey, f.a, 1
			return stay, nil
		}
	case oKey:
		w := n.props[f.c].key[:f.b]
		last := min(n.reqFrom[f.a], len(n.props)-1)
		for j := int(f.a); j <= last; j++ {
			k := n.props[j].key
			if len(k) > int(f.b) && k[f.b] == c && k[:f.b] == w {
				f.c, f.b = int32(j), f.b+1
				if int(f.b) == len(k) {
					f.phase = oColon
				}
				return stay, nil
			}
		}
	case oColon:
		if c == ':' {
			f.phase = oValue
			return stay, nil
		}
	case oValue:
		f.phase = oAfter
		if isMap {
			return pushChild, n.mapValue
		}
		f.a = f.c + 1
		return pushChild, n.props[f.c].value
	case oAfter:
		switch {
		case c == ',' && (isMap || int(f.a) < len(n.props)):
			f.phase = oNext
			return stay, nil
		case c == '}' && n.closable(f):
			return popConsumed, nil
		}
	}
	return reject, nil
}

// closable reports whether the object may close: no required property is
// left.
func (n *node) closable(f *frame) bool {
	return len(n.props) == 0 || n.reqFrom[f.a] == len(n.props)
}

// arrayStep moves an array frame.
func (n *node) arrayStep(f *frame, c byte) (int, *node) {
	if f.phase != aOpen && isSpace(c) {
		return space(f, c), nil
	}
	f.sp = 0
	switch f.phase {
	case aOpen:
		if c == '[' {
			f.phase = aFirst
			return stay, nil
		}
	case aFirst, aNext:
		if c == ']' && f.phase == aFirst && n.minItems == 0 {
			return popConsumed, nil
		}
		if n.maxItems < 0 || int(f.a) < n.maxItems {
			f.a++
			f.phase = aAfter
			return pushChild, n.items
		}
	case aAfter:
		switch {
		case c == ',' && (n.maxItems < 0 || int(f.a) < n.maxItems):
			f.phase = aNext
			return stay, nil
		case c == ']' && int(f.a) >= n.minItems:
			return popConsumed, nil
		}
	}
	return reject, nil
}

// stringStep moves a string frame; characters count toward maxLength as
// written (an escape is one character).
func (n *node) stringStep(f *frame, c byte) int {
	switch f.phase {
	case sOpen:
		if c != '"' {
			return reject
		}
		f.phase = sBody
		if n.format != fmtNone {
			f.phase, f.a = sFormat, formatStart(n.format)
		}
		return stay
	case sFormat:
		if f.a == fmtClose {
			if c == '"' {
				return popConsumed
			}
			return reject
		}
		if formatStep(n.format, f, c) {
			return stay
		}
		return reject
	case sBody:
		str := f.str
		switch str.step(c) {
		case strClose:
			if int(f.a) >= n.minLen {
				return popConsumed
			}
			return reject
		case strStart:
			if n.maxLen >= 0 && int(f.a) >= n.maxLen {
				return reject
			}
			if n.maxLen >= 0 || n.minLen > 0 {
				// Counted only where it matters, so that the states
				// inside a free string share one key (and one mask).
				f.a++
			}
		case strBad:
			return reject
		}
		f.str = str
		return stay
	}
	return reject
}

// literalStep moves a literal frame: a is a literal consistent with the
// bytes so far (the witness), b the bytes matched.
func (n *node) literalStep(f *frame, c byte) int {
	if f.phase == 0 {
		for j, l := range n.lits {
			if l[0] == c {
				f.phase, f.a, f.b = 1, int32(j), 1
				return n.literalSettle(f)
			}
		}
		return reject
	}
	w := n.lits[f.a][:f.b]
	for j, l := range n.lits {
		if len(l) > int(f.b) && l[f.b] == c && l[:f.b] == w {
			f.a, f.b = int32(j), f.b+1
			return n.literalSettle(f)
		}
	}
	if n.litComplete(f) {
		return popPass
	}
	return reject
}

// literalSettle closes the literal when its witness is complete and no
// other literal continues it.
func (n *node) literalSettle(f *frame) int {
	w := n.lits[f.a]
	if len(w) != int(f.b) {
		return stay
	}
	for _, l := range n.lits {
		if len(l) > len(w) && l[:len(w)] == w {
			return stay
		}
	}
	return popConsumed
}

// litComplete reports whether the bytes matched are a whole literal.
func (n *node) litComplete(f *frame) bool {
	w := n.lits[f.a][:f.b]
	for _, l := range n.lits {
		if l == w {
			return true
		}
	}
	return false
}

// repeatStep moves a repeat frame: items separated by n.sep.
func (n *node) repeatStep(f *frame, c byte) (int, *node) {
	switch f.phase {
	case pItem:
		f.a++
		f.phase = pAfter
		return pushChild, n.alts[0]
	case pAfter:
		if (n.max < 0 || int(f.a) < n.max) && c == n.sep[0] {
			f.phase, f.b = pSep, 1
			if len(n.sep) == 1 {
				f.phase = pItem
			}
			return stay, nil
		}
		if int(f.a) >= n.min {
			return popPass, nil
		}
	case pSep:
		if c == n.sep[f.b] {
			if f.b++; int(f.b) == len(n.sep) {
				f.phase = pItem
			}
			return stay, nil
		}
	}
	return reject, nil
}
