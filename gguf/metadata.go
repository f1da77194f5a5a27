// This file holds GGUF metadata: the value types a key/value pair may carry,
// the Go types they decode to, and the typed accessors that look a key up and
// return an error naming it when it is missing or of the wrong type.

package gguf

import (
	"errors"
	"fmt"
	"math"
)

// ValueType is a GGUF metadata value type (gguf.h enum gguf_type).
type ValueType uint32

// The GGUF metadata value types, with the ids the file format gives them.
const (
	ValueUint8   ValueType = 0
	ValueInt8    ValueType = 1
	ValueUint16  ValueType = 2
	ValueInt16   ValueType = 3
	ValueUint32  ValueType = 4
	ValueInt32   ValueType = 5
	ValueFloat32 ValueType = 6
	ValueBool    ValueType = 7
	ValueString  ValueType = 8
	ValueArray   ValueType = 9
	ValueUint64  ValueType = 10
	ValueInt64   ValueType = 11
	ValueFloat64 ValueType = 12
)

// valueTypeNames are gguf-py's names for the value types (GGUFValueType).
var valueTypeNames = [...]string{
	ValueUint8: "uint8", ValueInt8: "int8", ValueUint16: "uint16", ValueInt16: "int16",
	ValueUint32: "uint32", ValueInt32: "int32", ValueFloat32: "float32", ValueBool: "bool",
	ValueString: "string", ValueArray: "array", ValueUint64: "uint64", ValueInt64: "int64",
	ValueFloat64: "float64",
}

// valueSizes are the encoded sizes of the fixed-size value types; 0 marks
// string and array, whose size depends on their contents.
var valueSizes = [...]uint64{
	ValueUint8: 1, ValueInt8: 1, ValueUint16: 2, ValueInt16: 2, ValueUint32: 4, ValueInt32: 4, ValueFloat32: 4,
	ValueBool: 1, ValueString: 0, ValueArray: 0, ValueUint64: 8, ValueInt64: 8, ValueFloat64: 8,
}

// Valid reports whether v is a value type the format defines.
func (v ValueType) Valid() bool { return v <= ValueFloat64 }

// String returns the type's name ("uint32", "array"), or "value_type(N)".
func (v ValueType) String() string {
	if v.Valid() {
		return valueTypeNames[v]
	}
	return fmt.Sprintf("value_type(%d)", uint32(v))
}

// minSize is the fewest bytes one encoded value of type v occupies: its fixed
// size, 8 for a string (its length) and 12 for an array (element type and
// count).
func (v ValueType) minSize() uint64 {
	switch v {
	case ValueString:
		return 8
	case ValueArray:
		return 12
	}
	return valueSizes[v]
}

// Array is a metadata array. Values holds a typed slice matching Type:
// []uint8, []int8, []uint16, []int16, []uint32, []int32, []float32, []bool,
// []string, []Array (nested arrays), []uint64, []int64 or []float64.
type Array struct {
	Type   ValueType
	Values any
}

// Len returns the number of elements in a.
func (a Array) Len() int {
	switch v := a.Values.(type) {
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []uint16:
		return len(v)
	case []int16:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []float32:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []Array:
		return len(v)
	case []uint64:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	}
	return 0
}

// KV is one metadata key/value pair. Value holds the Go type matching Type:
// uint8, int8, uint16, int16, uint32, int32, float32, bool, string, uint64,
// int64, float64, or Array.
type KV struct {
	Key   string
	Type  ValueType
	Value any
}

// ErrNotFound is returned (wrapped) when a key or tensor does not exist.
var ErrNotFound = errors.New("not found")

// ErrWrongType is returned (wrapped) when a key holds a value of another type
// than the accessor reads, or one that does not fit.
var ErrWrongType = errors.New("wrong type")

// Lookup returns the pair with the given key.
func (f *File) Lookup(key string) (KV, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return KV{}, false
	}
	return f.KV[i], true
}

func (f *File) lookup(key string) (KV, error) {
	kv, ok := f.Lookup(key)
	if !ok {
		return KV{}, fmt.Errorf("gguf: key %q: %w", key, ErrNotFound)
	}
	return kv, nil
}

// valueAs looks key up and returns its value as a T; want names the type in
// the error when the key holds another.
func valueAs[T any](f *File, key, want string) (T, KV, error) {
	var zero T
	kv, err := f.lookup(key)
	if err != nil {
		return zero, kv, err
	}
	v, ok := kv.Value.(T)
	if !ok {
		return zero, kv, wrongType(kv, want)
	}
	return v, kv, nil
}

// integerIn returns the value of key, which may have any integer type, when
// it lies in [lo, hi]; name is the Go type the caller converts it to.
func (f *File) integerIn(key string, lo, hi int64, name string) (int64, error) {
	kv, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	v, ok := intValue(kv.Value)
	if !ok {
		return 0, wrongType(kv, "integer")
	}
	if !v.fits(lo, hi) {
		return 0, fmt.Errorf("gguf: key %q: %w: value %s does not fit in %s", key, ErrWrongType, v, name)
	}
	return v.n, nil
}

func wrongType(kv KV, want string) error {
	t := kv.Type.String()
	if a, ok := kv.Value.(Array); ok {
		t = "array of " + a.Type.String()
	}
	return fmt.Errorf("gguf: key %q: %w: holds %s, want %s", kv.Key, ErrWrongType, t, want)
}

// String returns the string value of key.
func (f *File) String(key string) (string, error) {
	s, _, err := valueAs[string](f, key, "string")
	return s, err
}

// Uint32 returns the value of key, which may have any integer type whose
// value fits in a uint32.
func (f *File) Uint32(key string) (uint32, error) {
	n, err := f.integerIn(key, 0, math.MaxUint32, "uint32")
	return uint32(n), err
}

// Int returns the value of key, which may have any integer type whose value
// fits in an int64.
func (f *File) Int(key string) (int64, error) {
	return f.integerIn(key, math.MinInt64, math.MaxInt64, "int64")
}

// Float32 returns the value of key, which may be a float32 or a float64
// (rounded to float32).
func (f *File) Float32(key string) (float32, error) {
	kv, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	switch v := kv.Value.(type) {
	case float32:
		return v, nil
	case float64:
		return float32(v), nil
	}
	return 0, wrongType(kv, "float32 or float64")
}

// Bool returns the boolean value of key.
func (f *File) Bool(key string) (bool, error) {
	b, _, err := valueAs[bool](f, key, "bool")
	return b, err
}

// Array returns the array value of key.
func (f *File) Array(key string) (Array, error) {
	a, _, err := valueAs[Array](f, key, "array")
	return a, err
}

// Strings returns the array of strings stored under key. The slice is the
// file's own; callers must not modify it.
func (f *File) Strings(key string) ([]string, error) {
	a, kv, err := valueAs[Array](f, key, "array of string")
	if err != nil {
		return nil, err
	}
	s, ok := a.Values.([]string)
	if !ok {
		return nil, wrongType(kv, "array of string")
	}
	return s, nil
}

// Int32s returns the integer array stored under key as int32s; any integer
// element type is accepted when every value fits.
func (f *File) Int32s(key string) ([]int32, error) {
	a, kv, err := valueAs[Array](f, key, "integer array")
	if err != nil {
		return nil, err
	}
	if v, ok := a.Values.([]int32); ok {
		return v, nil
	}
	n := a.Len()
	out := make([]int32, n)
	for i := range n {
		v, ok := intValue(a.Elem(i))
		if !ok {
			return nil, wrongType(kv, "integer array")
		}
		if !v.fits(math.MinInt32, math.MaxInt32) {
			return nil, fmt.Errorf("gguf: key %q: %w: element %d value %s does not fit in int32", key, ErrWrongType, i, v)
		}
		out[i] = int32(v.n)
	}
	return out, nil
}

// Float32s returns the float array stored under key; float64 elements are
// rounded to float32.
func (f *File) Float32s(key string) ([]float32, error) {
	a, kv, err := valueAs[Array](f, key, "float array")
	if err != nil {
		return nil, err
	}
	switch v := a.Values.(type) {
	case []float32:
		return v, nil
	case []float64:
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out, nil
	}
	return nil, wrongType(kv, "float array")
}

// integer is an integer metadata value widened to 64 bits; big marks a uint64
// above math.MaxInt64 (n then holds its bits).
type integer struct {
	n   int64
	big bool
}

func (v integer) fits(lo, hi int64) bool { return !v.big && v.n >= lo && v.n <= hi }

func (v integer) String() string {
	if v.big {
		return fmt.Sprint(uint64(v.n))
	}
	return fmt.Sprint(v.n)
}

// intValue widens any integer value; ok is false for other types.
func intValue(x any) (integer, bool) {
	switch v := x.(type) {
	case uint8:
		return integer{n: int64(v)}, true
	case int8:
		return integer{n: int64(v)}, true
	case uint16:
		return integer{n: int64(v)}, true
	case int16:
		return integer{n: int64(v)}, true
	case uint32:
		return integer{n: int64(v)}, true
	case int32:
		return integer{n: int64(v)}, true
	case uint64:
		return integer{n: int64(v), big: v > math.MaxInt64}, true
	case int64:
		return integer{n: v}, true
	}
	return integer{}, false
}

// Elem returns element i of a as an interface value (uint8, string, Array,
// ...). It panics if i is out of range.
func (a Array) Elem(i int) any {
	switch v := a.Values.(type) {
	case []uint8:
		return v[i]
	case []int8:
		return v[i]
	case []uint16:
		return v[i]
	case []int16:
		return v[i]
	case []uint32:
		return v[i]
	case []int32:
		return v[i]
	case []float32:
		return v[i]
	case []bool:
		return v[i]
	case []string:
		return v[i]
	case []Array:
		return v[i]
	case []uint64:
		return v[i]
	case []int64:
		return v[i]
	case []float64:
		return v[i]
	}
	return nil
}
