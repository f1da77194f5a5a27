// This file holds the tensor side of a parsed File: looking tensors up by
// name, their element counts, whether this package can convert their type,
// and access to their bytes in the data section.

package gguf

import (
	"fmt"
	"math"
)

// Tensor returns the tensor info with the given name.
func (f *File) Tensor(name string) (*TensorInfo, error) {
	i, ok := f.tensorIndex[name]
	if !ok {
		return nil, fmt.Errorf("gguf: tensor %q: %w", name, ErrNotFound)
	}
	return &f.Tensors[i], nil
}

// TensorData returns the bytes of t. When the file is memory-mapped the slice
// aliases the read-only mapping (writing to it faults) and is valid until
// Close; otherwise the bytes are read into a new slice.
func (f *File) TensorData(t *TensorInfo) ([]byte, error) {
	if t.Offset > uint64(f.Size) || t.Size < 0 || uint64(t.Size) > uint64(f.Size)-t.Offset ||
		f.DataOffset+int64(t.Offset) > f.Size-t.Size {
		return nil, fmt.Errorf("gguf: tensor %q: data at offset %d (%d bytes) beyond file size %d", t.Name, t.Offset, t.Size, f.Size)
	}
	start := f.DataOffset + int64(t.Offset)
	if f.data != nil {
		return f.data[start : start+t.Size : start+t.Size], nil
	}
	if f.r == nil {
		return nil, fmt.Errorf("gguf: tensor %q: file is closed", t.Name)
	}
	if uint64(t.Size) > math.MaxInt {
		return nil, fmt.Errorf("gguf: tensor %q: %d bytes do not fit in memory on this platform", t.Name, t.Size)
	}
	b := make([]byte, t.Size)
	if _, err := f.r.ReadAt(b, start); err != nil {
		return nil, fmt.Errorf("gguf: tensor %q: reading %d bytes at offset %d: %w", t.Name, t.Size, start, err)
	}
	return b, nil
}

// Elements returns the number of elements of t.
func (t *TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Rows returns the number of rows of t: its elements divided by ne0.
func (t *TensorInfo) Rows() int64 {
	if len(t.Shape) == 0 || t.Shape[0] == 0 {
		return 0
	}
	return t.Elements() / t.Shape[0]
}

// RowSize returns the bytes of one row (ne0 elements) of t.
func (t *TensorInfo) RowSize() int64 {
	if len(t.Shape) == 0 {
		return 0
	}
	return t.Type.RowSize(t.Shape[0])
}

// CheckType returns an error wrapping ErrUnsupported, naming the tensor and
// its type, when this package cannot convert t's type to float32.
func (t *TensorInfo) CheckType() error {
	if !t.Type.Supported() {
		return unsupportedf("gguf: tensor %q: type %s not supported", t.Name, t.Type)
	}
	return nil
}

// CheckTypes returns the CheckType error of the first tensor whose type this
// package cannot convert, or nil.
func (f *File) CheckTypes() error {
	for i := range f.Tensors {
		if err := f.Tensors[i].CheckType(); err != nil {
			return err
		}
	}
	return nil
}

// TensorFloat32 returns the elements of t converted to float32 (row-major,
// ne0 fastest). The result is a new slice of t.Elements() values.
func (f *File) TensorFloat32(t *TensorInfo) ([]float32, error) {
	if err := t.CheckType(); err != nil {
		return nil, err
	}
	data, err := f.TensorData(t)
	if err != nil {
		return nil, err
	}
	n := t.Elements()
	if uint64(n) > math.MaxInt/4 {
		return nil, fmt.Errorf("gguf: tensor %q: %d elements do not fit in memory on this platform", t.Name, n)
	}
	out := make([]float32, n)
	if err := Dequantize(t.Type, data, out); err != nil {
		return nil, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
	}
	return out, nil
}
