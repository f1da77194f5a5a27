// This file holds the bounded little-endian decoder the reader parses the GGUF
// header with. It reads through a window buffer from any io.ReaderAt and checks
// every length against the bytes left in the file before it allocates or
// reads, so a corrupt count cannot make it allocate more than the file holds.

package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// windowSize is the decoder's read-ahead: large enough that metadata with
// hundreds of thousands of short strings costs few ReadAt calls.
const windowSize = 64 << 10

type decoder struct {
	r    io.ReaderAt
	size int64 // total file size
	pos  int64 // absolute position of the next byte to decode
	buf  []byte
	off  int64 // absolute position of buf[0]
}

func newDecoder(r io.ReaderAt, size int64) *decoder {
	return &decoder{r: r, size: size}
}

// remaining is the number of bytes between the cursor and the end of the file.
func (d *decoder) remaining() uint64 { return uint64(d.size - d.pos) }

// errShort is the error for a read of n bytes that runs past the end.
func (d *decoder) errShort(n uint64, what string) error {
	return corruptf("%s of %d bytes at offset %d runs past end of file (size %d)", what, n, d.pos, d.size)
}

// need checks that n more bytes exist.
func (d *decoder) need(n uint64, what string) error {
	if n > d.remaining() {
		return d.errShort(n, what)
	}
	return nil
}

// next returns the next n bytes and advances. The slice is valid until the
// following call unless n exceeds the window, in which case it is a fresh
// allocation (bounded by the file size, checked here).
func (d *decoder) next(n uint64, what string) ([]byte, error) {
	if err := d.need(n, what); err != nil {
		return nil, err
	}
	if n > windowSize {
		b := make([]byte, n)
		if _, err := d.r.ReadAt(b, d.pos); err != nil {
			return nil, fmt.Errorf("%s at offset %d: %w", what, d.pos, err)
		}
		d.pos += int64(n)
		return b, nil
	}
	start := d.pos - d.off
	if d.buf == nil || start < 0 || start+int64(n) > int64(len(d.buf)) {
		if err := d.fill(); err != nil {
			return nil, fmt.Errorf("%s at offset %d: %w", what, d.pos, err)
		}
		start = 0
	}
	d.pos += int64(n)
	return d.buf[start : start+int64(n)], nil
}

// fill loads the window starting at pos.
func (d *decoder) fill() error {
	n := min(int64(windowSize), d.size-d.pos)
	if d.buf == nil {
		d.buf = make([]byte, min(int64(windowSize), d.size))
	}
	d.buf = d.buf[:n]
	d.off = d.pos
	got, err := d.r.ReadAt(d.buf, d.pos)
	if int64(got) == n {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	d.buf = d.buf[:0]
	return err
}

func (d *decoder) u8(what string) (uint8, error) {
	b, err := d.next(1, what)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (d *decoder) u16(what string) (uint16, error) {
	b, err := d.next(2, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b), nil
}

func (d *decoder) u32(what string) (uint32, error) {
	b, err := d.next(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64(what string) (uint64, error) {
	b, err := d.next(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// str reads a GGUF string: a uint64 byte length, then the bytes.
func (d *decoder) str(what string) (string, error) {
	n, err := d.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > d.remaining() {
		return "", corruptf("%s length %d at offset %d exceeds the %d bytes left in the file", what, n, d.pos-8, d.remaining())
	}
	b, err := d.next(n, what)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// maxArrayDepth bounds the nesting of arrays in metadata. GGUF writers emit
// at most arrays of arrays of scalars; the bound keeps recursion shallow.
const maxArrayDepth = 8

// value reads one metadata value of type t.
func (d *decoder) value(t ValueType, depth int) (any, error) {
	switch t {
	case ValueUint8:
		return d.u8("uint8 value")
	case ValueInt8:
		v, err := d.u8("int8 value")
		return int8(v), err
	case ValueUint16:
		return d.u16("uint16 value")
	case ValueInt16:
		v, err := d.u16("int16 value")
		return int16(v), err
	case ValueUint32:
		return d.u32("uint32 value")
	case ValueInt32:
		v, err := d.u32("int32 value")
		return int32(v), err
	case ValueFloat32:
		v, err := d.u32("float32 value")
		return math.Float32frombits(v), err
	case ValueBool:
		v, err := d.u8("bool value")
		return v != 0, err
	case ValueString:
		return d.str("string value")
	case ValueArray:
		return d.array(depth + 1)
	case ValueUint64:
		return d.u64("uint64 value")
	case ValueInt64:
		v, err := d.u64("int64 value")
		return int64(v), err
	case ValueFloat64:
		v, err := d.u64("float64 value")
		return math.Float64frombits(v), err
	}
	return nil, corruptf("unknown value type %d", uint32(t))
}

// array reads an array: element type, count, elements. The count is checked
// against the smallest size its elements can have before anything is
// allocated.
func (d *decoder) array(depth int) (Array, error) {
	if depth > maxArrayDepth {
		return Array{}, corruptf("arrays nested deeper than %d at offset %d", maxArrayDepth, d.pos)
	}
	et, err := d.u32("array element type")
	if err != nil {
		return Array{}, err
	}
	t := ValueType(et)
	if !t.Valid() {
		return Array{}, corruptf("unknown array element type %d at offset %d", et, d.pos-4)
	}
	n, err := d.u64("array length")
	if err != nil {
		return Array{}, err
	}
	if ms := t.minSize(); n > d.remaining()/ms {
		return Array{}, corruptf("array of %d %s at offset %d needs at least %d bytes per element, only %d bytes left in the file",
			n, t, d.pos-8, ms, d.remaining())
	}
	if n > math.MaxInt32 && math.MaxInt == math.MaxInt32 {
		return Array{}, unsupportedf("array of %d elements at offset %d is too large for a 32-bit platform", n, d.pos-8)
	}
	a := Array{Type: t}
	switch t {
	case ValueString:
		v := make([]string, n)
		for i := range v {
			if v[i], err = d.str("array string"); err != nil {
				return Array{}, err
			}
		}
		a.Values = v
	case ValueArray:
		v := make([]Array, n)
		for i := range v {
			if v[i], err = d.array(depth + 1); err != nil {
				return Array{}, err
			}
		}
		a.Values = v
	default:
		a.Values, err = d.scalars(t, int(n))
		if err != nil {
			return Array{}, err
		}
	}
	return a, nil
}

// scalars reads n fixed-size values of type t into a typed slice, a window at
// a time.
func (d *decoder) scalars(t ValueType, n int) (any, error) {
	es := int(valueSizes[t])
	var out any
	var put func(i int, b []byte)
	switch t {
	case ValueUint8:
		v := make([]uint8, n)
		out, put = v, func(i int, b []byte) { copy(v[i:], b) }
	case ValueInt8:
		v := make([]int8, n)
		out, put = v, func(i int, b []byte) {
			for j, x := range b {
				v[i+j] = int8(x)
			}
		}
	case ValueBool:
		v := make([]bool, n)
		out, put = v, func(i int, b []byte) {
			for j, x := range b {
				v[i+j] = x != 0
			}
		}
	case ValueUint16:
		v := make([]uint16, n)
		out, put = v, func(i int, b []byte) {
			for j := range len(b) / 2 {
				v[i+j] = binary.LittleEndian.Uint16(b[2*j:])
			}
		}
	case ValueInt16:
		v := make([]int16, n)
		out, put = v, func(i int, b []byte) {
			for j := range len(b) / 2 {
				v[i+j] = int16(binary.LittleEndian.Uint16(b[2*j:]))
			}
		}
	case ValueUint32:
		v := make([]uint32, n)
		out, put = v, func(i int, b []byte) {
			for j := range len(b) / 4 {
				v[i+j] = binary.LittleEndian.Uint32(b[4*j:])
			}
		}
	case ValueInt32:
		v := make([]int32, n)
		out, put = v, func(i int, b []byte) {
			for j := range len(b) / 4 {
				v[i+j] = int32(binary.LittleEndian.Uint32(b[4*j:]))
			}
		}
	case ValueFloat32:
		v := make([]float32, n)
		out, put = v, func(i int, b []byte) {
			for j := range len(b) / 4 {
				v[i+j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
			}
		}
	case ValueUint64:
		v := make([]uint64, n)
		out, put = v, func(i int, b []byte) {
			for j := range len(b) / 8 {
				v[i+j] = binary.LittleEndian.Uint64(b[8*j:])
			}
		}
	case ValueInt64:
		v := make([]int64, n)
		out, put = v, func(i int, b []byte) {
			for j := range len(b) / 8 {
				v[i+j] = int64(binary.LittleEndian.Uint64(b[8*j:]))
			}
		}
	case ValueFloat64:
		v := make([]float64, n)
		out, put = v, func(i int, b []byte) {
			for j := range len(b) / 8 {
				v[i+j] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*j:]))
			}
		}
	default:
		return nil, corruptf("value type %s is not a scalar", t)
	}
	per := windowSize / es
	for i := 0; i < n; i += per {
		k := min(per, n-i)
		b, err := d.next(uint64(k*es), "array elements")
		if err != nil {
			return nil, err
		}
		put(i, b)
	}
	return out, nil
}
