// This file holds weights: a tensor's raw GGUF bytes kept as given (usually a
// slice of the memory-mapped file, never copied into the heap) with its type
// and shape, and the row accessor the ops use to turn one row into float32.

package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// supported lists the weight types MatMul and Embed accept.
var supported = map[gguf.Type]bool{
	gguf.TypeF32: true, gguf.TypeF16: true, gguf.TypeBF16: true,
	gguf.TypeQ8_0: true, gguf.TypeQ4_0: true, gguf.TypeQ4_1: true,
	gguf.TypeQ5_0: true, gguf.TypeQ5_1: true,
	gguf.TypeQ2_K: true, gguf.TypeQ3_K: true, gguf.TypeQ4_K: true,
	gguf.TypeQ5_K: true, gguf.TypeQ6_K: true,
}

// weight is a tensor in its GGUF type: ne1 rows of ne0 elements.
type weight struct {
	typ      gguf.Type
	ne0, ne1 int
	rowSize  int       // bytes per row
	data     []byte    // raw GGUF bytes, read-only
	f32      []float32 // the data viewed (F32) or converted (1-D non-F32) as float32; nil otherwise
}

func (w *weight) Type() gguf.Type       { return w.typ }
func (w *weight) Dims() (int, int)      { return w.ne0, w.ne1 }
func (w *weight) Bytes() int64          { return int64(len(w.data)) }
func (w *weight) Free()                 { w.data, w.f32 = nil, nil }
func (w *weight) rowBytes(o int) []byte { return w.data[o*w.rowSize : (o+1)*w.rowSize] }

// halfRow returns row o of an F16 or BF16 weight as its ne0 16-bit values.
func (w *weight) halfRow(o int) []uint16 {
	return unsafe.Slice((*uint16)(unsafe.Pointer(&w.data[o*w.rowSize])), w.ne0)
}

// LoadWeight wraps data without copying it. F32 data is viewed in place as
// float32 (GGUF aligns tensor data to at least 8 bytes); vectors of another
// type (norm weights are F32 in practice) are converted once.
func (b *Backend) LoadWeight(name string, typ gguf.Type, ne0, ne1 int, data []byte) (engine.Weight, error) {
	if !supported[typ] {
		return nil, fmt.Errorf("%w: cpu: tensor %q: type %s is not supported", engine.ErrUnsupportedModel, name, typ)
	}
	if ne0 <= 0 || ne1 <= 0 || ne0%typ.BlockSize() != 0 {
		return nil, fmt.Errorf("cpu: tensor %q: bad shape [%d, %d] for type %s (block size %d)", name, ne0, ne1, typ, typ.BlockSize())
	}
	rowSize := int(typ.RowSize(int64(ne0)))
	if len(data) != rowSize*ne1 {
		return nil, fmt.Errorf("cpu: tensor %q: %d bytes, want %d for %s [%d, %d]", name, len(data), rowSize*ne1, typ, ne0, ne1)
	}
	w := &weight{typ: typ, ne0: ne0, ne1: ne1, rowSize: rowSize, data: data}
	switch {
	case typ == gguf.TypeF32 && uintptr(unsafe.Pointer(unsafe.SliceData(data)))%4 == 0:
		w.f32 = unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(data))), ne0*ne1)
	case typ == gguf.TypeF32 || ne1 == 1:
		w.f32 = make([]float32, ne0*ne1)
		for o := range ne1 {
			dequantRow(typ, w.rowBytes(o), w.f32[o*ne0:(o+1)*ne0])
		}
	}
	b.growScratch(tileRows(ne0) * ne0)
	return w, nil
}

// row returns row o of w as float32: a view for F32 weights, else the row
// dequantized into tmp (len(tmp) >= ne0).
func (w *weight) row(o int, tmp []float32) []float32 {
	if w.f32 != nil {
		return w.f32[o*w.ne0 : (o+1)*w.ne0]
	}
	tmp = tmp[:w.ne0]
	dequantRow(w.typ, w.rowBytes(o), tmp)
	return tmp
}

// dequantRow converts one row of src in type typ to len(dst) floats. The
// 16-bit float types convert here; the block types use gguf.DequantizeRow,
// ggml's reference dequantization.
func dequantRow(typ gguf.Type, src []byte, dst []float32) {
	switch typ {
	case gguf.TypeF32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case gguf.TypeF16, gguf.TypeBF16:
		widenHalf(typ, dst, unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(src))), len(src)/2))
	default:
		gguf.DequantizeRow(typ, src, dst)
	}
}
