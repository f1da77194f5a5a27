// This file tests the typed metadata accessors: conversions they allow, and
// errors that name the key for missing keys, wrong types and values that do
// not fit.

package gguf

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

func accessorFile(t *testing.T) *File {
	t.Helper()
	w := NewWriter()
	w.AddKV("s", "text")
	w.AddKV("u8", uint8(7))
	w.AddKV("i8", int8(-7))
	w.AddKV("u64.big", uint64(math.MaxUint64))
	w.AddKV("i64.neg", int64(-5))
	w.AddKV("u32", uint32(4000000000))
	w.AddKV("f32", float32(0.25))
	w.AddKV("f64", 0.5)
	w.AddKV("b", true)
	w.AddKV("strs", []string{"a", "b"})
	w.AddKV("i32s", []int32{1, -2})
	w.AddKV("u8s", []uint8{1, 2})
	w.AddKV("u32s.big", []uint32{1, 3000000000})
	w.AddKV("f32s", []float32{1.5})
	w.AddKV("f64s", []float64{2.5})
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAccessorsConvert(t *testing.T) {
	f := accessorFile(t)
	if v, err := f.Uint32("u8"); err != nil || v != 7 {
		t.Errorf("Uint32(u8) = %d, %v", v, err)
	}
	if v, err := f.Uint32("u32"); err != nil || v != 4000000000 {
		t.Errorf("Uint32(u32) = %d, %v", v, err)
	}
	if v, err := f.Int("i8"); err != nil || v != -7 {
		t.Errorf("Int(i8) = %d, %v", v, err)
	}
	if v, err := f.Int("i64.neg"); err != nil || v != -5 {
		t.Errorf("Int(i64.neg) = %d, %v", v, err)
	}
	if v, err := f.Float32("f64"); err != nil || v != 0.5 {
		t.Errorf("Float32(f64) = %v, %v", v, err)
	}
	if v, err := f.Int32s("u8s"); err != nil || len(v) != 2 || v[1] != 2 {
		t.Errorf("Int32s(u8s) = %v, %v", v, err)
	}
	if v, err := f.Float32s("f64s"); err != nil || len(v) != 1 || v[0] != 2.5 {
		t.Errorf("Float32s(f64s) = %v, %v", v, err)
	}
	if v, err := f.Strings("strs"); err != nil || len(v) != 2 || v[1] != "b" {
		t.Errorf("Strings = %v, %v", v, err)
	}
	if v, err := f.Bool("b"); err != nil || !v {
		t.Errorf("Bool = %v, %v", v, err)
	}
	if a, err := f.Array("i32s"); err != nil || a.Len() != 2 || a.Elem(1) != int32(-2) {
		t.Errorf("Array = %v, %v", a, err)
	}
}

func TestAccessorErrors(t *testing.T) {
	f := accessorFile(t)
	for _, c := range []struct {
		name string
		call func() error
		want string
		is   error
	}{
		{"missing", func() error { _, err := f.String("nope"); return err }, `gguf: key "nope": not found`, ErrNotFound},
		{"string of int", func() error { _, err := f.String("u8"); return err }, `gguf: key "u8": wrong type: holds uint8, want string`, ErrWrongType},
		{"uint32 of negative", func() error { _, err := f.Uint32("i8"); return err }, `gguf: key "i8": wrong type: value -7 does not fit in uint32`, ErrWrongType},
		{"uint32 of huge", func() error { _, err := f.Uint32("u64.big"); return err }, `value 18446744073709551615 does not fit in uint32`, ErrWrongType},
		{"int of huge", func() error { _, err := f.Int("u64.big"); return err }, `value 18446744073709551615 does not fit in int64`, ErrWrongType},
		{"int of float", func() error { _, err := f.Int("f32"); return err }, `holds float32, want integer`, ErrWrongType},
		{"float of int", func() error { _, err := f.Float32("u8"); return err }, `holds uint8, want float32 or float64`, ErrWrongType},
		{"bool of string", func() error { _, err := f.Bool("s"); return err }, `holds string, want bool`, ErrWrongType},
		{"strings of ints", func() error { _, err := f.Strings("i32s"); return err }, `holds array of int32, want array of string`, ErrWrongType},
		{"int32s of scalar", func() error { _, err := f.Int32s("u8"); return err }, `holds uint8, want integer array`, ErrWrongType},
		{"int32s too big", func() error { _, err := f.Int32s("u32s.big"); return err }, `element 1 value 3000000000 does not fit in int32`, ErrWrongType},
		{"float32s of strings", func() error { _, err := f.Float32s("strs"); return err }, `holds array of string, want float array`, ErrWrongType},
		{"array of scalar", func() error { _, err := f.Array("s"); return err }, `holds string, want array`, ErrWrongType},
		{"missing tensor", func() error { _, err := f.Tensor("blk.0.x"); return err }, `gguf: tensor "blk.0.x": not found`, ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, c.is) {
				t.Errorf("error %v, want %q (%v)", err, c.want, c.is)
			}
		})
	}
}

// TestReadAtPath parses a reference model through an *os.File instead of
// the mapping and checks that tensor data is the same.
func TestReadAtPath(t *testing.T) {
	path := reftest.Model(t, "mini-q4_0")
	mapped, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer mapped.Close()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	f, err := Read(fh, mapped.Size)
	if err != nil {
		t.Fatal(err)
	}
	if f.Mapped() || len(f.Tensors) != len(mapped.Tensors) || f.DataOffset != mapped.DataOffset {
		t.Fatalf("ReadAt parse differs: mapped %v, %d tensors, data offset %d", f.Mapped(), len(f.Tensors), f.DataOffset)
	}
	for i := range f.Tensors {
		a, err1 := f.TensorData(&f.Tensors[i])
		b, err2 := mapped.TensorData(&mapped.Tensors[i])
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("tensor %q differs (%v, %v)", f.Tensors[i].Name, err1, err2)
		}
	}
	if err := mapped.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := mapped.TensorData(&mapped.Tensors[0]); err == nil {
		t.Errorf("TensorData after Close succeeded")
	}
	if err := mapped.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
