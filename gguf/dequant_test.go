// This file pins the block layouts and checks the dequantizers element by
// element against a direct reading of ggml's block formats, on random
// blocks of every supported type.

package gguf

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBlockSizes pins ggml's block layouts (ggml-common.h static_asserts).
func TestBlockSizes(t *testing.T) {
	for _, c := range []struct {
		typ              Type
		elems, blockSize int
	}{
		{TypeF32, 1, 4}, {TypeF16, 1, 2}, {TypeBF16, 1, 2},
		{TypeQ4_0, 32, 18}, {TypeQ4_1, 32, 20}, {TypeQ5_0, 32, 22}, {TypeQ5_1, 32, 24},
		{TypeQ8_0, 32, 34}, {TypeQ8_1, 32, 36},
		{TypeQ2_K, 256, 84}, {TypeQ3_K, 256, 110}, {TypeQ4_K, 256, 144}, {TypeQ5_K, 256, 176},
		{TypeQ6_K, 256, 210}, {TypeQ8_K, 256, 292},
		{TypeIQ2_XXS, 256, 66}, {TypeIQ4_NL, 32, 18}, {TypeIQ4_XS, 256, 136}, {TypeMXFP4, 32, 17},
	} {
		if c.typ.BlockSize() != c.elems || c.typ.TypeSize() != c.blockSize {
			t.Errorf("%s: block of %d elements in %d bytes, want %d in %d", c.typ, c.typ.BlockSize(), c.typ.TypeSize(), c.elems, c.blockSize)
		}
	}
	for typ, size := range map[Type]int{TypeQ2_K: q2KSize, TypeQ3_K: q3KSize, TypeQ4_K: q4KSize, TypeQ5_K: q5KSize, TypeQ6_K: q6KSize, TypeQ8_K: q8KSize} {
		if typ.TypeSize() != size {
			t.Errorf("%s: dequantizer uses %d-byte blocks, type table says %d", typ, size, typ.TypeSize())
		}
	}
}

// specElem returns element e of a row of type typ, read straight from the
// block layout one element at a time, with ggml's float32 operations.
func specElem(typ Type, row []byte, e int) float32 {
	bs, ts := typ.BlockSize(), typ.TypeSize()
	b := row[e/bs*ts : (e/bs+1)*ts]
	e %= bs
	h16 := func(off int) float32 { return F16ToF32(binary.LittleEndian.Uint16(b[off:])) }
	nib := func(qs []byte, e int) int32 { return int32(qs[e%16]>>(4*(e/16))) & 15 } // 32-element blocks
	switch typ {
	case TypeF32:
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	case TypeF16:
		return h16(0)
	case TypeBF16:
		return BF16ToF32(binary.LittleEndian.Uint16(b))
	case TypeQ4_0:
		return float32(nib(b[2:], e)-8) * h16(0)
	case TypeQ4_1:
		return float32(float32(nib(b[4:], e))*h16(0)) + h16(2)
	case TypeQ5_0:
		qh := binary.LittleEndian.Uint32(b[2:])
		return float32(nib(b[6:], e)|int32(qh>>e&1)<<4-16) * h16(0)
	case TypeQ5_1:
		qh := binary.LittleEndian.Uint32(b[4:])
		return float32(float32(nib(b[8:], e)|int32(qh>>e&1)<<4)*h16(0)) + h16(2)
	case TypeQ8_0:
		return float32(int8(b[2+e])) * h16(0)
	case TypeQ8_K:
		return math.Float32frombits(binary.LittleEndian.Uint32(b)) * float32(int8(b[4+e]))
	}
	// k-quants: e = 128*half + 32*plane + within.
	half, plane, within := e/128, e%128/32, e%32
	switch typ {
	case TypeQ2_K:
		q := int32(b[16+32*half+within]>>(2*plane)) & 3
		sc := b[e/16]
		return float32(float32(h16(80)*float32(sc&15))*float32(q)) - h16(82)*float32(sc>>4)
	case TypeQ3_K:
		q := int32(b[32+32*half+within]>>(2*plane)) & 3
		if b[e%32]>>(e/32)&1 == 0 {
			q -= 4
		}
		k, s := e/16, b[96:108]
		lo := s[k%8] >> (4 * (k / 8)) & 15
		hi := s[8+k%4] >> (2 * (k / 4)) & 3
		return float32(h16(108)*float32(int32(lo|hi<<4)-32)) * float32(q)
	case TypeQ4_K, TypeQ5_K:
		sub := e / 32
		s := b[4:16]
		var sc, m uint8
		if sub < 4 {
			sc, m = s[sub]&63, s[sub+4]&63
		} else {
			sc = s[sub+4]&15 | s[sub-4]>>6<<4
			m = s[sub+4]>>4 | s[sub]>>6<<4
		}
		qsOff := 16
		var high int32
		if typ == TypeQ5_K {
			qsOff = 48
			high = int32(b[16+e%32]>>sub&1) << 4
		}
		q := int32(b[qsOff+32*(e/64)+e%32]>>(4*(sub%2)))&15 | high
		return float32(float32(h16(0)*float32(sc))*float32(q)) - h16(2)*float32(m)
	case TypeQ6_K:
		lo := int32(b[64*half+within+32*(plane%2)]>>(4*(plane/2))) & 15
		hi := int32(b[128+32*half+within]>>(2*plane)) & 3
		sc := int8(b[192+e/16])
		return h16(208) * float32(sc) * float32(lo|hi<<4-32)
	}
	panic("no spec for " + typ.String())
}

// randomRow returns n elements' worth of random blocks of typ whose F16 and
// F32 scale fields hold finite values of moderate size.
func randomRow(r *rand.Rand, typ Type, n int) []byte {
	row := make([]byte, typ.RowSize(int64(n)))
	for i := range row {
		row[i] = byte(r.Uint32())
	}
	half := func(b []byte) { binary.LittleEndian.PutUint16(b, F32ToF16(float32(r.NormFloat64()))) }
	ts := typ.TypeSize()
	for off := 0; off < len(row); off += ts {
		b := row[off : off+ts]
		switch typ {
		case TypeF32:
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(r.NormFloat64())))
		case TypeF16, TypeQ4_0, TypeQ5_0, TypeQ8_0:
			half(b)
		case TypeBF16:
			binary.LittleEndian.PutUint16(b, F32ToBF16(float32(r.NormFloat64())))
		case TypeQ4_1, TypeQ5_1, TypeQ4_K, TypeQ5_K:
			half(b)
			half(b[2:])
		case TypeQ2_K:
			half(b[80:])
			half(b[82:])
		case TypeQ3_K:
			half(b[108:])
		case TypeQ6_K:
			half(b[208:])
		case TypeQ8_K:
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(r.NormFloat64())))
		}
	}
	return row
}

func TestDequantizeMatchesSpec(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range quantTypes {
		t.Run(c.typ.String(), func(t *testing.T) {
			const n = 4 * QK_K
			row := randomRow(r, c.typ, n)
			got := make([]float32, n)
			if err := Dequantize(c.typ, row, got); err != nil {
				t.Fatal(err)
			}
			for e, g := range got {
				if w := specElem(c.typ, row, e); math.Float32bits(g) != math.Float32bits(w) {
					t.Fatalf("element %d: got %v, spec %v", e, g, w)
				}
			}
		})
	}
}

func TestDequantizePortableF32(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	row := randomRow(r, TypeF32, 37)
	fast, portable := make([]float32, 37), make([]float32, 37)
	DequantizeRow(TypeF32, row, fast)
	defer func(v bool) { littleEndian = v }(littleEndian)
	littleEndian = false
	DequantizeRow(TypeF32, row, portable)
	for i := range fast {
		if math.Float32bits(fast[i]) != math.Float32bits(portable[i]) {
			t.Fatalf("element %d: %v vs %v", i, fast[i], portable[i])
		}
	}
}

func TestDequantizeRowDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, c := range quantTypes {
		row := randomRow(r, c.typ, QK_K)
		dst := make([]float32, QK_K)
		if n := testing.AllocsPerRun(10, func() { DequantizeRow(c.typ, row, dst) }); n != 0 {
			t.Errorf("%s: %v allocations per row", c.typ, n)
		}
	}
	for _, typ := range []Type{TypeQ8_0, TypeQ8_K} {
		src := make([]float32, QK_K)
		dst := make([]byte, typ.RowSize(QK_K))
		if n := testing.AllocsPerRun(10, func() { QuantizeRow(typ, src, dst) }); n != 0 {
			t.Errorf("QuantizeRow %s: %v allocations per row", typ, n)
		}
	}
}

func TestDequantizeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		typ  Type
		src  int
		dst  int
		want string
	}{
		{"partial block", TypeQ4_0, 18, 16, "16 elements is not a multiple of the block size 32"},
		{"short source", TypeQ4_K, 143, 256, "256 elements need 144 bytes, have 143"},
		{"unsupported", TypeIQ4_NL, 18, 32, "type IQ4_NL not supported"},
		{"unknown", Type(77), 18, 32, "type(77) not supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Dequantize(c.typ, make([]byte, c.src), make([]float32, c.dst))
			if err == nil || !containsStr(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	if _, err := Quantize(TypeQ4_K, make([]float32, 100)); err == nil || !containsStr(err.Error(), "not a multiple") {
		t.Errorf("Quantize of a partial block: %v", err)
	}
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
