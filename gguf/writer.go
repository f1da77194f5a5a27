// This file holds the GGUF writer. It collects metadata and tensor
// descriptions, then streams a GGUF v3 file: header, key/value pairs, tensor
// infos, padding to the alignment, and each tensor's data padded to the
// alignment (the layout gguf-py's GGUFWriter and ggml's gguf_write produce).
// Tensor data may be produced at write time, so multi-gigabyte files never
// need to be held in memory.

package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// Writer builds a GGUF v3 file. Add methods record the first error, which
// WriteTo and WriteFile return; a Writer is not safe for concurrent use.
type Writer struct {
	kv      []KV
	kvIndex map[string]int
	tensors []writerTensor
	names   map[string]bool
	err     error
}

type writerTensor struct {
	info  TensorInfo
	data  []byte
	write func(io.Writer) error
}

// NewWriter returns an empty writer for a GGUF v3 file with alignment 32
// unless general.alignment is set.
func NewWriter() *Writer {
	return &Writer{kvIndex: map[string]int{}, names: map[string]bool{}}
}

// Err returns the first error recorded by an Add method.
func (w *Writer) Err() error { return w.err }

func (w *Writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// AddKV sets a metadata key. Go types map to GGUF types one to one: uint8,
// int8, uint16, int16, uint32, int32, float32, bool, string, uint64, int64,
// float64, slices of those (arrays), and Array for nested arrays. Plain int
// is rejected because GGUF readers check integer widths: say uint32 or int32.
// Setting a key again replaces its value in place. Nested arrays are valid
// GGUF, but ggml's reader (llama.cpp) rejects a file holding one ("invalid
// GGUF type 9"); files meant for llama.cpp should not use them.
func (w *Writer) AddKV(key string, value any) {
	if key == "" {
		w.fail(errors.New("gguf: writer: empty key"))
		return
	}
	vt, v, err := encodableValue(value, 0)
	if err != nil {
		w.fail(fmt.Errorf("gguf: writer: key %q: %w", key, err))
		return
	}
	if key == KeyAlignment {
		a, ok := v.(uint32)
		if !ok || a == 0 || a&(a-1) != 0 {
			w.fail(fmt.Errorf("gguf: writer: key %q must be a uint32 power of two, got %T %v", key, value, value))
			return
		}
	}
	kv := KV{Key: key, Type: vt, Value: v}
	if i, ok := w.kvIndex[key]; ok {
		w.kv[i] = kv
		return
	}
	w.kvIndex[key] = len(w.kv)
	w.kv = append(w.kv, kv)
}

// encodableValue maps a Go value to its GGUF value type.
func encodableValue(value any, depth int) (ValueType, any, error) {
	switch v := value.(type) {
	case uint8:
		return ValueUint8, v, nil
	case int8:
		return ValueInt8, v, nil
	case uint16:
		return ValueUint16, v, nil
	case int16:
		return ValueInt16, v, nil
	case uint32:
		return ValueUint32, v, nil
	case int32:
		return ValueInt32, v, nil
	case float32:
		return ValueFloat32, v, nil
	case bool:
		return ValueBool, v, nil
	case string:
		return ValueString, v, nil
	case uint64:
		return ValueUint64, v, nil
	case int64:
		return ValueInt64, v, nil
	case float64:
		return ValueFloat64, v, nil
	case Array:
		if err := checkArray(v, depth+1); err != nil {
			return 0, nil, err
		}
		return ValueArray, v, nil
	}
	if a, ok := sliceArray(value); ok {
		if err := checkArray(a, depth+1); err != nil {
			return 0, nil, err
		}
		return ValueArray, a, nil
	}
	return 0, nil, fmt.Errorf("unsupported Go type %T", value)
}

// sliceArray wraps a typed slice in an Array.
func sliceArray(value any) (Array, bool) {
	var t ValueType
	switch value.(type) {
	case []uint8:
		t = ValueUint8
	case []int8:
		t = ValueInt8
	case []uint16:
		t = ValueUint16
	case []int16:
		t = ValueInt16
	case []uint32:
		t = ValueUint32
	case []int32:
		t = ValueInt32
	case []float32:
		t = ValueFloat32
	case []bool:
		t = ValueBool
	case []string:
		t = ValueString
	case []uint64:
		t = ValueUint64
	case []int64:
		t = ValueInt64
	case []float64:
		t = ValueFloat64
	case []Array:
		t = ValueArray
	default:
		return Array{}, false
	}
	return Array{Type: t, Values: value}, true
}

// checkArray checks that an Array's Values match its Type, recursively.
func checkArray(a Array, depth int) error {
	if depth > maxArrayDepth {
		return fmt.Errorf("arrays nested deeper than %d", maxArrayDepth)
	}
	s, ok := sliceArray(a.Values)
	if !ok || s.Type != a.Type {
		return fmt.Errorf("array of %s holds %T", a.Type, a.Values)
	}
	if nested, ok := a.Values.([]Array); ok {
		for _, e := range nested {
			if err := checkArray(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// AddTensor adds a tensor whose bytes are in memory; data must hold exactly
// typ.RowSize(shape[0]) bytes per row. The slice is read at write time.
func (w *Writer) AddTensor(name string, typ Type, shape []int64, data []byte) {
	ti, ok := w.addInfo(name, typ, shape)
	if !ok {
		return
	}
	if int64(len(data)) != ti.Size {
		w.fail(fmt.Errorf("gguf: writer: tensor %q: %d bytes of data, %s %v needs %d", name, len(data), typ, shape, ti.Size))
		return
	}
	w.tensors = append(w.tensors, writerTensor{info: ti, data: data})
}

// AddTensorFunc adds a tensor whose bytes write produces at write time; it
// must write exactly the tensor's size in bytes.
func (w *Writer) AddTensorFunc(name string, typ Type, shape []int64, write func(io.Writer) error) {
	ti, ok := w.addInfo(name, typ, shape)
	if !ok {
		return
	}
	if write == nil {
		w.fail(fmt.Errorf("gguf: writer: tensor %q: nil write function", name))
		return
	}
	w.tensors = append(w.tensors, writerTensor{info: ti, write: write})
}

func (w *Writer) addInfo(name string, typ Type, shape []int64) (TensorInfo, bool) {
	fail := func(format string, args ...any) (TensorInfo, bool) {
		w.fail(fmt.Errorf("gguf: writer: tensor %q: "+format, append([]any{name}, args...)...))
		return TensorInfo{}, false
	}
	switch {
	case len(name) > MaxNameLen:
		return fail("name longer than %d bytes", MaxNameLen)
	case w.names[name]:
		return fail("duplicate name")
	case len(shape) == 0 || len(shape) > MaxDims:
		return fail("%d dimensions (want 1 to %d)", len(shape), MaxDims)
	case !typ.Known():
		return fail("unknown type id %d", uint32(typ))
	}
	dims := make([]uint64, len(shape))
	for i, d := range shape {
		if d <= 0 {
			return fail("dimension %d is %d", i, d)
		}
		dims[i] = uint64(d)
	}
	ti := TensorInfo{Name: name, Type: typ}
	if err := ti.setShape(dims, math.MaxInt64); err != nil {
		w.fail(fmt.Errorf("gguf: writer: %w", err))
		return TensorInfo{}, false
	}
	w.names[name] = true
	return ti, true
}

// alignment returns general.alignment or the default.
func (w *Writer) alignment() uint64 {
	if i, ok := w.kvIndex[KeyAlignment]; ok {
		return uint64(w.kv[i].Value.(uint32))
	}
	return DefaultAlignment
}

// WriteTo writes the file to out and returns the bytes written.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	align := w.alignment()
	var off uint64
	for i := range w.tensors {
		t := &w.tensors[i].info
		t.Offset = off
		off += alignUpU(uint64(t.Size), align)
	}
	cw := &countingWriter{w: out}
	bw := bufio.NewWriterSize(cw, 1<<20)
	e := &encoder{w: bw}
	e.u32(magic)
	e.u32(3)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.kv)))
	for _, kv := range w.kv {
		e.str(kv.Key)
		e.u32(uint32(kv.Type))
		e.value(kv.Value)
	}
	for _, t := range w.tensors {
		e.str(t.info.Name)
		e.u32(uint32(len(t.info.Shape)))
		for _, d := range t.info.Shape {
			e.u64(uint64(d))
		}
		e.u32(uint32(t.info.Type))
		e.u64(t.info.Offset)
	}
	if e.err != nil {
		return cw.n, fmt.Errorf("gguf: writer: %w", e.err)
	}
	pos := cw.n + int64(bw.Buffered())
	if err := pad(bw, uint64(pos), align); err != nil {
		return cw.n, fmt.Errorf("gguf: writer: %w", err)
	}
	for _, t := range w.tensors {
		if t.write != nil {
			lw := &limitedWriter{w: bw, left: t.info.Size}
			if err := t.write(lw); err != nil {
				return cw.n, fmt.Errorf("gguf: writer: tensor %q: %w", t.info.Name, err)
			}
			if lw.left != 0 {
				return cw.n, fmt.Errorf("gguf: writer: tensor %q: wrote %d of %d bytes", t.info.Name, t.info.Size-lw.left, t.info.Size)
			}
		} else if _, err := bw.Write(t.data); err != nil {
			return cw.n, fmt.Errorf("gguf: writer: tensor %q: %w", t.info.Name, err)
		}
		if err := pad(bw, uint64(t.info.Size), align); err != nil {
			return cw.n, fmt.Errorf("gguf: writer: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("gguf: writer: %w", err)
	}
	return cw.n, nil
}

// WriteFile writes the file to path atomically: into a temporary file in the
// same directory, synced, then renamed over path. The file gets the
// permissions of the file it replaces, or newFileMode when path is new
// (not the owner-only mode of the temporary file, which other users'
// readers, such as a model server running under its own account, could not
// open).
func (w *Writer) WriteFile(path string) (err error) {
	if w.err != nil {
		return w.err
	}
	mode := newFileMode
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("gguf: writer: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = w.WriteTo(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("gguf: writer: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("gguf: writer: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("gguf: writer: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("gguf: writer: %w", err)
	}
	return nil
}

// newFileMode is the permission of a new file written by WriteFile: readable
// by everyone, writable by the owner, what creating the file directly would
// give under the usual umask 022.
const newFileMode os.FileMode = 0o644

func alignUpU(x, a uint64) uint64 { return (x + a - 1) / a * a }

var zeros [256]byte

// pad writes zeros from position pos up to the next multiple of align.
func pad(w io.Writer, pos, align uint64) error {
	n := alignUpU(pos, align) - pos
	for n > 0 {
		k := min(n, uint64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// limitedWriter passes through at most left bytes and fails beyond.
type limitedWriter struct {
	w    io.Writer
	left int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, fmt.Errorf("tensor data longer than its size (%d bytes too many)", int64(len(p))-l.left)
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	return n, err
}

// encoder writes little-endian GGUF values, keeping the first error.
type encoder struct {
	w   *bufio.Writer
	err error
	buf [8]byte
}

func (e *encoder) bytes(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *encoder) u8(v uint8) { e.bytes([]byte{v}) }
func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.buf[:], v)
	e.bytes(e.buf[:2])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:], v)
	e.bytes(e.buf[:4])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.bytes(e.buf[:8])
}
func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

func (e *encoder) value(v any) {
	switch x := v.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case bool:
		if x {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case string:
		e.str(x)
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case Array:
		e.u32(uint32(x.Type))
		n := x.Len()
		e.u64(uint64(n))
		switch s := x.Values.(type) { // the large arrays of tokenizers, without boxing
		case []string:
			for _, v := range s {
				e.str(v)
			}
		case []int32:
			for _, v := range s {
				e.u32(uint32(v))
			}
		case []float32:
			for _, v := range s {
				e.u32(math.Float32bits(v))
			}
		case []uint8:
			e.bytes(s)
		default:
			for i := range n {
				e.value(x.Elem(i))
			}
		}
	default:
		if e.err == nil {
			e.err = fmt.Errorf("cannot encode %T", v)
		}
	}
}
