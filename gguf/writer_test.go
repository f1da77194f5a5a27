// This file tests the writer: metadata of every type and tensors round-trip
// through Read, streamed tensors are size-checked, bad input is reported, and
// rewriting a reference model reproduces it byte for byte.

package gguf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

func TestWriterRoundTrip(t *testing.T) {
	w := NewWriter()
	values := []KV{
		{"u8", ValueUint8, uint8(200)},
		{"i8", ValueInt8, int8(-100)},
		{"u16", ValueUint16, uint16(60000)},
		{"i16", ValueInt16, int16(-30000)},
		{"u32", ValueUint32, uint32(4000000000)},
		{"i32", ValueInt32, int32(-2000000000)},
		{"f32", ValueFloat32, float32(1.5e-6)},
		{"bool", ValueBool, true},
		{"str", ValueString, "héllo\x00world"},
		{"u64", ValueUint64, uint64(math.MaxUint64)},
		{"i64", ValueInt64, int64(math.MinInt64)},
		{"f64", ValueFloat64, math.Pi},
		{"a.strings", ValueArray, Array{ValueString, []string{"a", "", "ccc"}}},
		{"a.i32", ValueArray, Array{ValueInt32, []int32{1, -2, 3}}},
		{"a.f32", ValueArray, Array{ValueFloat32, []float32{0.5, -1}}},
		{"a.bool", ValueArray, Array{ValueBool, []bool{true, false}}},
		{"a.u8", ValueArray, Array{ValueUint8, []uint8{}}},
		{"a.f64", ValueArray, Array{ValueFloat64, []float64{1e300}}},
		{"a.nested", ValueArray, Array{ValueArray, []Array{
			{ValueInt16, []int16{-1, 2}},
			{ValueString, []string{"x"}},
			{ValueArray, []Array{{ValueUint64, []uint64{7}}}},
		}}},
	}
	for _, kv := range values {
		w.AddKV(kv.Key, kv.Value)
	}
	w.AddKV("u8", uint8(201)) // replaces in place
	values[0].Value = uint8(201)

	f32 := make([]byte, 4*6)
	for i := range 6 {
		copy(f32[4*i:], le32(math.Float32bits(float32(i)-2.5)))
	}
	q8 := make([]byte, TypeQ8_0.RowSize(64)*3)
	for i := range q8 {
		q8[i] = byte(i * 7)
	}
	w.AddTensor("vec", TypeF32, []int64{6}, f32)
	w.AddTensorFunc("mat", TypeQ8_0, []int64{64, 3}, func(out io.Writer) error {
		_, err := out.Write(q8)
		return err
	})
	w.AddTensor("odd", TypeF16, []int64{3, 1, 1, 1}, []byte{1, 2, 3, 4, 5, 6})

	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	f, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 || f.Alignment != 32 || f.DataOffset%32 != 0 {
		t.Errorf("version %d alignment %d data offset %d", f.Version, f.Alignment, f.DataOffset)
	}
	if !reflect.DeepEqual(f.KV, values) {
		t.Errorf("metadata differs:\n got %#v\nwant %#v", f.KV, values)
	}
	for _, c := range []struct {
		name  string
		typ   Type
		shape []int64
		data  []byte
	}{
		{"vec", TypeF32, []int64{6}, f32},
		{"mat", TypeQ8_0, []int64{64, 3}, q8},
		{"odd", TypeF16, []int64{3, 1, 1, 1}, []byte{1, 2, 3, 4, 5, 6}},
	} {
		ti, err := f.Tensor(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if ti.Type != c.typ || !slices.Equal(ti.Shape, c.shape) || ti.Offset%32 != 0 {
			t.Errorf("tensor %s: %s %v offset %d", c.name, ti.Type, ti.Shape, ti.Offset)
		}
		data, err := f.TensorData(ti)
		if err != nil || !bytes.Equal(data, c.data) {
			t.Errorf("tensor %s data differs (err %v)", c.name, err)
		}
	}
}

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

func TestWriterAlignment(t *testing.T) {
	w := NewWriter()
	w.AddKV(KeyAlignment, uint32(64))
	w.AddTensor("a", TypeF32, []int64{3}, make([]byte, 12))
	w.AddTensor("b", TypeF32, []int64{1}, make([]byte, 4))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Alignment != 64 || f.DataOffset%64 != 0 || f.Tensors[1].Offset != 64 || f.Size != f.DataOffset+128 {
		t.Errorf("alignment %d data offset %d second offset %d size %d", f.Alignment, f.DataOffset, f.Tensors[1].Offset, f.Size)
	}
}

func TestWriterErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		add  func(w *Writer)
		want string
	}{
		{"plain int", func(w *Writer) { w.AddKV("k", 3) }, "unsupported Go type int"},
		{"empty key", func(w *Writer) { w.AddKV("", uint32(1)) }, "empty key"},
		{"mismatched array", func(w *Writer) { w.AddKV("k", Array{ValueInt32, []string{"x"}}) }, "array of int32 holds []string"},
		{"alignment type", func(w *Writer) { w.AddKV(KeyAlignment, uint64(32)) }, "power of two"},
		{"alignment value", func(w *Writer) { w.AddKV(KeyAlignment, uint32(48)) }, "power of two"},
		{"data size", func(w *Writer) { w.AddTensor("t", TypeF32, []int64{4}, make([]byte, 15)) }, "15 bytes of data"},
		{"block size", func(w *Writer) { w.AddTensor("t", TypeQ4_0, []int64{16}, make([]byte, 9)) }, "not a multiple"},
		{"zero dim", func(w *Writer) { w.AddTensor("t", TypeF32, []int64{4, 0}, nil) }, "dimension 1 is 0"},
		{"five dims", func(w *Writer) { w.AddTensor("t", TypeF32, []int64{1, 1, 1, 1, 1}, make([]byte, 4)) }, "5 dimensions"},
		{"long name", func(w *Writer) { w.AddTensor(strings.Repeat("n", 64), TypeF32, []int64{1}, make([]byte, 4)) }, "longer than 63"},
		{"duplicate", func(w *Writer) {
			w.AddTensor("t", TypeF32, []int64{1}, make([]byte, 4))
			w.AddTensor("t", TypeF32, []int64{1}, make([]byte, 4))
		}, "duplicate name"},
		{"unknown type", func(w *Writer) { w.AddTensor("t", Type(99), []int64{1}, nil) }, "unknown type id 99"},
		{"short func", func(w *Writer) {
			w.AddTensorFunc("t", TypeF32, []int64{4}, func(o io.Writer) error { _, err := o.Write(make([]byte, 12)); return err })
		}, "wrote 12 of 16 bytes"},
		{"long func", func(w *Writer) {
			w.AddTensorFunc("t", TypeF32, []int64{4}, func(o io.Writer) error { _, err := o.Write(make([]byte, 20)); return err })
		}, "longer than its size"},
		{"func error", func(w *Writer) {
			w.AddTensorFunc("t", TypeF32, []int64{4}, func(io.Writer) error { return errors.New("boom") })
		}, "boom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := NewWriter()
			c.add(w)
			_, err := w.WriteTo(io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	w := NewWriter()
	w.AddKV("general.architecture", "test")
	w.AddTensor("t", TypeF32, []int64{2}, make([]byte, 8))
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s, _ := f.String("general.architecture"); s != "test" || len(f.Tensors) != 1 {
		t.Errorf("read back %q with %d tensors", s, len(f.Tensors))
	}
	// A failing write leaves neither the target nor a temporary file behind.
	bad := NewWriter()
	bad.AddTensorFunc("t", TypeF32, []int64{1}, func(io.Writer) error { return errors.New("boom") })
	if err := bad.WriteFile(filepath.Join(dir, "bad.gguf")); err == nil {
		t.Fatal("failing write reported no error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed write, want 1", len(entries))
	}
}

// TestRewriteReferenceModels copies every reference model through the
// writer: metadata and tensors in file order. The reference files were
// written by gguf-py and llama-quantize with the same layout rules, so the
// copy must be byte-identical to the original.
func TestRewriteReferenceModels(t *testing.T) {
	ref := reftest.Dir(t)
	for _, m := range refModels {
		t.Run(m.file, func(t *testing.T) {
			path := filepath.Join(ref, "models", m.file)
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w := NewWriter()
			for _, kv := range f.KV {
				w.AddKV(kv.Key, kv.Value)
			}
			for i := range f.Tensors {
				ti := &f.Tensors[i]
				data, err := f.TensorData(ti)
				if err != nil {
					t.Fatal(err)
				}
				w.AddTensor(ti.Name, ti.Type, ti.Shape, data)
			}
			var buf bytes.Buffer
			if _, err := w.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), orig) {
				i := 0
				for i < min(len(orig), buf.Len()) && orig[i] == buf.Bytes()[i] {
					i++
				}
				t.Errorf("rewritten file (%d bytes) differs from the original (%d bytes) at byte %d", buf.Len(), len(orig), i)
			}
			g, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g.KV, f.KV) || !reflect.DeepEqual(g.Tensors, f.Tensors) || g.DataOffset != f.DataOffset {
				t.Errorf("read-back metadata or tensor infos differ")
			}
		})
	}
}

// TestWriterStreams writes a 64 MiB tensor produced at write time and checks
// that the writer never holds it in memory.
func TestWriterStreams(t *testing.T) {
	const n = 16 << 20 // float32 elements: 64 MiB
	w := NewWriter()
	w.AddKV("general.architecture", "stream")
	w.AddTensorFunc("big", TypeF32, []int64{4096, n / 4096}, func(out io.Writer) error {
		chunk := make([]byte, 1<<16)
		for written := 0; written < 4*n; written += len(chunk) {
			if _, err := out.Write(chunk); err != nil {
				return err
			}
		}
		return nil
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	size, err := w.WriteTo(io.Discard)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if size < 4*n {
		t.Errorf("wrote %d bytes, want at least %d", size, 4*n)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("writing a 64 MiB streamed tensor allocated %d bytes", alloc)
	}
}
