// This file converts tensor rows from their GGUF type to float32: the plain
// float types and ggml's 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1,
// Q8_0). The k-quants are in dequant_k.go. Every routine performs the same
// float32 operations in the same order as ggml's reference dequantization
// (ggml-quants.c dequantize_row_*), so the results are bit-identical; products
// that ggml adds to another value are wrapped in float32() so the compiler
// cannot fuse them into one FMA with a different rounding.

package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"unsafe"
)

// Supported reports whether this package can convert t to and from float32.
func (t Type) Supported() bool {
	switch t {
	case TypeF32, TypeF16, TypeBF16, TypeQ4_0, TypeQ4_1, TypeQ5_0, TypeQ5_1, TypeQ8_0,
		TypeQ2_K, TypeQ3_K, TypeQ4_K, TypeQ5_K, TypeQ6_K, TypeQ8_K:
		return true
	}
	return false
}

// Dequantize converts len(dst) elements of type typ from src to float32.
// len(dst) must be a multiple of the type's block size and src must hold at
// least typ.RowSize(len(dst)) bytes.
func Dequantize(typ Type, src []byte, dst []float32) error {
	if !typ.Supported() {
		return unsupportedf("gguf: dequantize: type %s not supported", typ)
	}
	if bs := typ.BlockSize(); len(dst)%bs != 0 {
		return fmt.Errorf("gguf: dequantize %s: %d elements is not a multiple of the block size %d", typ, len(dst), bs)
	}
	if need := typ.RowSize(int64(len(dst))); int64(len(src)) < need {
		return fmt.Errorf("gguf: dequantize %s: %d elements need %d bytes, have %d", typ, len(dst), need, len(src))
	}
	DequantizeRow(typ, src, dst)
	return nil
}

// DequantizeRow converts len(dst) elements of type typ from src to float32
// without checking its arguments: len(dst) must be a multiple of the block
// size, src must hold the row and typ must be Supported (other types leave
// dst unchanged). It does not allocate.
func DequantizeRow(typ Type, src []byte, dst []float32) {
	switch typ {
	case TypeF32:
		dequantF32(src, dst)
	case TypeF16:
		dequantF16(src, dst)
	case TypeBF16:
		dequantBF16(src, dst)
	case TypeQ4_0:
		dequantQ4_0(src, dst)
	case TypeQ4_1:
		dequantQ4_1(src, dst)
	case TypeQ5_0:
		dequantQ5_0(src, dst)
	case TypeQ5_1:
		dequantQ5_1(src, dst)
	case TypeQ8_0:
		dequantQ8_0(src, dst)
	case TypeQ2_K:
		dequantQ2_K(src, dst)
	case TypeQ3_K:
		dequantQ3_K(src, dst)
	case TypeQ4_K:
		dequantQ4_K(src, dst)
	case TypeQ5_K:
		dequantQ5_K(src, dst)
	case TypeQ6_K:
		dequantQ6_K(src, dst)
	case TypeQ8_K:
		dequantQ8_K(src, dst)
	}
}

func f16At(b []byte, i int) float32 { return F16ToF32(binary.LittleEndian.Uint16(b[i:])) }

func dequantF32(src []byte, dst []float32) {
	src = src[:4*len(dst)]
	if littleEndian {
		copy(dst, unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(src))), len(dst)))
		return
	}
	n := len(dst) &^ 7
	for i := 0; i < n; i += 8 {
		s, d := (*[32]byte)(src[4*i:]), (*[8]float32)(dst[i:])
		for j := range d {
			d[j] = math.Float32frombits(binary.LittleEndian.Uint32(s[4*j:]))
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

// dequantF16 and dequantBF16 convert eight elements per step so the bounds
// are checked once per step rather than per element.
func dequantF16(src []byte, dst []float32) {
	tab := f16Table()
	n := len(dst) &^ 7
	for i := 0; i < n; i += 8 {
		s, d := (*[16]byte)(src[2*i:]), (*[8]float32)(dst[i:])
		for j := range d {
			d[j] = tab[uint16(s[2*j])|uint16(s[2*j+1])<<8]
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] = F16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

func dequantBF16(src []byte, dst []float32) {
	n := len(dst) &^ 7
	for i := 0; i < n; i += 8 {
		s, d := (*[16]byte)(src[2*i:]), (*[8]float32)(dst[i:])
		for j := range d {
			d[j] = math.Float32frombits((uint32(s[2*j]) | uint32(s[2*j+1])<<8) << 16)
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] = BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}

// f16Table returns the float32 value of every half, built on first use
// (256 KiB, as ggml's ggml_table_f32_f16).
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	t := new([1 << 16]float32)
	for i := range t {
		t[i] = F16ToF32(uint16(i))
	}
	return t
})

// Block layouts (ggml-common.h), 32 elements each:
//
//	block_q4_0 { half d; uint8 qs[16] }               18 bytes
//	block_q4_1 { half d; half m; uint8 qs[16] }       20 bytes
//	block_q5_0 { half d; uint8 qh[4]; uint8 qs[16] }  22 bytes
//	block_q5_1 { half d; half m; uint8 qh[4]; uint8 qs[16] } 24 bytes
//	block_q8_0 { half d; int8 qs[32] }                34 bytes
//
// In the 4- and 5-bit formats, byte j holds element j in its low nibble and
// element j+16 in its high nibble; bit j of qh is element j's fifth bit.
const qk = 32

func dequantQ4_0(src []byte, dst []float32) {
	for i := range len(dst) / qk {
		b := src[i*18 : i*18+18]
		y := dst[i*qk : i*qk+qk]
		d := f16At(b, 0)
		qs := b[2:18]
		lo, hi := y[:16], y[16:32]
		for j := range 16 {
			lo[j] = float32(int32(qs[j]&0xf)-8) * d
			hi[j] = float32(int32(qs[j]>>4)-8) * d
		}
	}
}

func dequantQ4_1(src []byte, dst []float32) {
	for i := range len(dst) / qk {
		b := src[i*20 : i*20+20]
		y := dst[i*qk : i*qk+qk]
		d, m := f16At(b, 0), f16At(b, 2)
		qs := b[4:20]
		lo, hi := y[:16], y[16:32]
		for j := range 16 {
			lo[j] = float32(float32(qs[j]&0xf)*d) + m
			hi[j] = float32(float32(qs[j]>>4)*d) + m
		}
	}
}

func dequantQ5_0(src []byte, dst []float32) {
	for i := range len(dst) / qk {
		b := src[i*22 : i*22+22]
		y := dst[i*qk : i*qk+qk]
		d := f16At(b, 0)
		qh := binary.LittleEndian.Uint32(b[2:])
		qs := b[6:22]
		lo, hi := y[:16], y[16:32]
		for j := range 16 {
			h0 := (qh >> j << 4) & 0x10
			h1 := (qh >> (j + 12)) & 0x10
			lo[j] = float32(int32(uint32(qs[j]&0xf)|h0)-16) * d
			hi[j] = float32(int32(uint32(qs[j]>>4)|h1)-16) * d
		}
	}
}

func dequantQ5_1(src []byte, dst []float32) {
	for i := range len(dst) / qk {
		b := src[i*24 : i*24+24]
		y := dst[i*qk : i*qk+qk]
		d, m := f16At(b, 0), f16At(b, 2)
		qh := binary.LittleEndian.Uint32(b[4:])
		qs := b[8:24]
		lo, hi := y[:16], y[16:32]
		for j := range 16 {
			h0 := (qh >> j << 4) & 0x10
			h1 := (qh >> (j + 12)) & 0x10
			lo[j] = float32(float32(uint32(qs[j]&0xf)|h0)*d) + m
			hi[j] = float32(float32(uint32(qs[j]>>4)|h1)*d) + m
		}
	}
}

func dequantQ8_0(src []byte, dst []float32) {
	for i := range len(dst) / qk {
		b := src[i*34 : i*34+34]
		y := dst[i*qk : i*qk+qk]
		d := f16At(b, 0)
		qs := b[2:34]
		for j := range qk {
			y[j] = float32(int8(qs[j])) * d
		}
	}
}
