// This file holds the number side of the schema matcher: which numbers a
// prefix can still become, so that a bounded number is refused at the
// first digit that rules out every value in range (a prefix the matcher
// accepts can always be completed).
//
// Generated numbers have at most maxDigits integer digits and maxFrac
// fraction digits; an exponent (at most two digits) only where the number
// has no bounds. The magnitudes stay below 1e15, exact in a float64.

package constrain

import "math"

// Digit limits of generated numbers.
const (
	maxDigits = 15 // integer digits
	maxFrac   = 15 // fraction digits
	maxExp    = 2  // exponent digits
	// maxBound bounds the minimum and maximum a schema may give, so that
	// every bound is exact in a float64 and reachable within maxDigits.
	maxBound = 1e15
)

// interval is a range of magnitudes [lo, hi], with hi excluded when
// hiOpen.
type interval struct {
	lo, hi float64
	hiOpen bool
}

// boundsOK reports whether some number satisfies the node's bounds.
func (n *node) boundsOK() bool {
	if !n.hasLo || !n.hasHi {
		return true
	}
	if n.lo < n.hi {
		return n.kind == kNumber || math.Floor(n.hi) >= math.Ceil(n.lo)
	}
	return n.lo == n.hi && !n.loExcl && !n.hiExcl
}

// inRange reports whether x satisfies the node's bounds.
func (n *node) inRange(x float64) bool {
	if n.hasLo && (x < n.lo || (n.loExcl && x == n.lo)) {
		return false
	}
	if n.hasHi && (x > n.hi || (n.hiExcl && x == n.hi)) {
		return false
	}
	return true
}

// meets reports whether some value of sign neg and magnitude in m (an
// integer one for an integer node) satisfies the node's bounds.
func (n *node) meets(neg bool, m interval) bool {
	// The values as a signed range [lo, hi] with open ends.
	lo, hi, loOpen, hiOpen := m.lo, m.hi, false, m.hiOpen
	if neg {
		lo, hi, loOpen, hiOpen = -m.hi, -m.lo, m.hiOpen, false
	}
	if n.hasLo && (n.lo > lo || (n.lo == lo && n.loExcl)) {
		lo, loOpen = n.lo, n.loExcl
	}
	if n.hasHi && (n.hi < hi || (n.hi == hi && n.hiExcl)) {
		hi, hiOpen = n.hi, n.hiExcl
	}
	if n.kind == kInteger {
		l, h := math.Ceil(lo), math.Floor(hi)
		if loOpen && l == lo {
			l++
		}
		if hiOpen && h == hi {
			h--
		}
		return l <= h
	}
	return lo < hi || (lo == hi && !loOpen && !hiOpen)
}

// numberFeasible reports whether the number prefix in f can still become a
// value within the node's bounds.
func (n *node) numberFeasible(f *frame) bool {
	if !n.hasLo && !n.hasHi {
		return true
	}
	integer := n.kind == kInteger
	switch f.phase {
	case nStart, nMinus:
		return n.meets(f.neg, interval{lo: 0, hi: math.Inf(1)})
	case nZero:
		if integer {
			return n.meets(f.neg, interval{})
		}
		return n.meets(f.neg, interval{lo: 0, hi: 1, hiOpen: true})
	case nInt:
		// p, then k more digits (k = 0 included), then for a number a
		// fraction: [p·10^k, (p+1)·10^k).
		scale := 1.0
		for k := int(f.a); k <= maxDigits; k++ {
			m := interval{lo: f.v * scale, hi: (f.v + 1) * scale, hiOpen: true}
			if integer {
				m = interval{lo: f.v * scale, hi: (f.v+1)*scale - 1}
			}
			if n.meets(f.neg, m) {
				return true
			}
			scale *= 10
		}
		return false
	case nDot:
		return n.meets(f.neg, interval{lo: f.v, hi: f.v + 1, hiOpen: true})
	case nFrac:
		if f.b >= maxFrac {
			return n.meets(f.neg, interval{lo: f.v, hi: f.v})
		}
		return n.meets(f.neg, interval{lo: f.v, hi: f.v + math.Pow(10, -float64(f.b)), hiOpen: true})
	}
	return true
}

// numberEnds reports whether the number in f may end here.
func (n *node) numberEnds(f *frame) bool {
	switch f.phase {
	case nZero, nInt, nFrac:
		v := f.v
		if f.neg {
			v = -v
		}
		return n.inRange(v)
	case nExpDigit:
		return true // exponents only where there are no bounds
	}
	return false
}

// numberStep moves a number frame by one byte (the byte is part of the
// number: '-', a digit, '.', 'e', 'E', '+').
func (n *node) numberStep(f *frame, c byte) bool {
	integer := n.kind == kInteger
	bounded := n.hasLo || n.hasHi
	d := float64(c - '0')
	switch f.phase {
	case nStart:
		switch {
		case c == '-':
			f.phase, f.neg = nMinus, true
		case c == '0':
			f.phase = nZero
		case isDigit(c):
			f.phase, f.a, f.v = nInt, 1, d
		default:
			return false
		}
	case nMinus:
		switch {
		case c == '0':
			f.phase = nZero
		case isDigit(c):
			f.phase, f.a, f.v = nInt, 1, d
		default:
			return false
		}
	case nZero, nInt:
		switch {
		case isDigit(c) && f.phase == nInt && f.a < maxDigits:
			f.a++
			f.v = f.v*10 + d
		case c == '.' && !integer:
			f.phase = nDot
		case (c == 'e' || c == 'E') && !integer && !bounded:
			f.phase = nExp
		default:
			return false
		}
	case nDot:
		if !isDigit(c) {
			return false
		}
		f.phase, f.b = nFrac, 1
		f.v += d / 10
	case nFrac:
		switch {
		case isDigit(c) && f.b < maxFrac:
			f.b++
			f.v += d * math.Pow(10, -float64(f.b))
		case (c == 'e' || c == 'E') && !bounded:
			f.phase = nExp
		default:
			return false
		}
	case nExp:
		switch {
		case c == '+' || c == '-':
			f.phase = nExpSign
		case isDigit(c):
			f.phase, f.b = nExpDigit, 1
		default:
			return false
		}
	case nExpSign:
		if !isDigit(c) {
			return false
		}
		f.phase, f.b = nExpDigit, 1
	case nExpDigit:
		if !isDigit(c) || f.b >= maxExp {
			return false
		}
		f.b++
	default:
		return false
	}
	return n.numberFeasible(f)
}

// isNumberByte reports a byte that can continue a number.
func isNumberByte(c byte) bool {
	return isDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}
