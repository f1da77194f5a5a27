// This file generates malformed GGUF files, one per way a file can be
// broken, and checks that the reader rejects each with the expected error;
// FuzzRead starts from the same files and the reference models and checks
// that no input panics or allocates out of proportion to its size.

package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

// raw builds GGUF bytes field by field, valid or not.
type raw struct{ bytes.Buffer }

func (r *raw) u8(v uint8) *raw { r.WriteByte(v); return r }
func (r *raw) u32(v uint32) *raw {
	r.Write(binary.LittleEndian.AppendUint32(nil, v))
	return r
}
func (r *raw) u64(v uint64) *raw {
	r.Write(binary.LittleEndian.AppendUint64(nil, v))
	return r
}
func (r *raw) str(s string) *raw { r.u64(uint64(len(s))); r.WriteString(s); return r }

// header writes magic, version 3 and the counts.
func (r *raw) header(nTensors, nKV uint64) *raw {
	r.WriteString("GGUF")
	return r.u32(3).u64(nTensors).u64(nKV)
}

// kvU32 writes a uint32 key/value pair.
func (r *raw) kvU32(key string, v uint32) *raw { return r.str(key).u32(uint32(ValueUint32)).u32(v) }

// tensor writes a tensor info.
func (r *raw) tensor(name string, typ Type, offset uint64, dims ...uint64) *raw {
	r.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	return r.u32(uint32(typ)).u64(offset)
}

// align pads with zeros to a multiple of a.
func (r *raw) align(a int) *raw {
	for r.Len()%a != 0 {
		r.WriteByte(0)
	}
	return r
}

// data appends n bytes of tensor data.
func (r *raw) data(n int) *raw { r.Write(make([]byte, n)); return r }

func (r *raw) get() []byte { return bytes.Clone(r.Bytes()) }

// validFile is a small well-formed file: two KVs and two F32 tensors.
func validFile() []byte {
	r := new(raw).header(2, 2)
	r.str("general.architecture").u32(uint32(ValueString)).str("test")
	r.kvU32("test.n", 7)
	r.tensor("a", TypeF32, 0, 4)
	r.tensor("b", TypeF32, 32, 2, 2)
	return r.align(32).data(32 + 16).get()
}

type malformedCase struct {
	name string
	file []byte
	want string // substring of the error
	kind error  // ErrCorrupt or ErrUnsupported
}

func malformedCases() []malformedCase {
	valid := validFile()
	nested := new(raw).header(0, 1).str("k").u32(uint32(ValueArray))
	for range maxArrayDepth + 1 {
		nested.u32(uint32(ValueArray)).u64(1)
	}
	nested.u32(uint32(ValueUint8)).u64(0)

	cases := []malformedCase{
		{"empty", nil, "too short", ErrCorrupt},
		{"short magic", []byte("GG"), "too short", ErrCorrupt},
		{"header only magic and version", []byte("GGUF\x03\x00\x00\x00"), "too short", ErrCorrupt},
		{"bad magic", append([]byte("GGML"), valid[4:]...), `bad magic: not a GGUF file`, ErrCorrupt},
		{"version 1", new(raw).header(0, 0).get()[:4:4], "", nil}, // replaced below
		{"version 4", append(append([]byte("GGUF"), 4, 0, 0, 0), valid[8:]...), "GGUF version 4", ErrUnsupported},
		{"version 0", append(append([]byte("GGUF"), 0, 0, 0, 0), valid[8:]...), "GGUF version 0 (supported: 2, 3)", ErrUnsupported},
		{"byte-swapped version", append(append([]byte("GGUF"), 0, 0, 0, 3), valid[8:]...), "byte-swapped version", ErrUnsupported},
		{"absurd tensor count", new(raw).header(1<<60, 0).data(64).get(), "tensor count 1152921504606846976 exceeds", ErrCorrupt},
		{"absurd kv count", new(raw).header(0, math.MaxUint64).data(64).get(), "metadata count 18446744073709551615 exceeds", ErrCorrupt},
		{"key length past EOF", new(raw).header(0, 1).u64(1000).data(20).get(), "key length 1000", ErrCorrupt},
		{"key length near 2^64", new(raw).header(0, 1).u64(math.MaxUint64 - 7).data(20).get(), "key length 18446744073709551608", ErrCorrupt},
		{"string value length past EOF", new(raw).header(0, 1).str("k").u32(uint32(ValueString)).u64(1 << 40).data(8).get(), "string value length 1099511627776", ErrCorrupt},
		{"empty key", new(raw).header(0, 1).kvU32("", 1).get(), "empty key", ErrCorrupt},
		{"duplicate key", new(raw).header(0, 2).kvU32("k", 1).kvU32("k", 2).get(), `duplicate key "k"`, ErrCorrupt},
		{"unknown value type", new(raw).header(0, 1).str("k").u32(13).u32(0).get(), "unknown value type 13", ErrCorrupt},
		{"unknown array element type", new(raw).header(0, 1).str("k").u32(uint32(ValueArray)).u32(99).u64(0).get(), "unknown array element type 99", ErrCorrupt},
		{"arrays nested too deep", nested.get(), "nested deeper than 8", ErrCorrupt},
		{"huge array count", new(raw).header(0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueUint32)).u64(1 << 62).data(16).get(), "array of 4611686018427387904 uint32", ErrCorrupt},
		{"array count larger than file", new(raw).header(0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueUint8)).u64(1000).data(100).get(), "only 100 bytes left", ErrCorrupt},
		{"string array count larger than file", new(raw).header(0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueString)).u64(100).data(100).get(), "array of 100 string", ErrCorrupt},
		{"array string past EOF", new(raw).header(0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueString)).u64(2).str("ok").u64(50).get(), "array string length 50", ErrCorrupt},
		{"nested array count larger than file", new(raw).header(0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueArray)).u64(10).data(24).get(), "array of 10 array", ErrCorrupt},
		{"truncated value", new(raw).header(0, 1).str("k").u32(uint32(ValueUint64)).u32(0).get(), "uint64 value of 8 bytes", ErrCorrupt},
		{"alignment zero", new(raw).header(0, 1).kvU32(KeyAlignment, 0).get(), "alignment 0 is not a power of two", ErrCorrupt},
		{"alignment not a power of two", new(raw).header(0, 1).kvU32(KeyAlignment, 48).get(), "alignment 48 is not a power of two", ErrCorrupt},
		{"alignment wrong type", new(raw).header(0, 1).str(KeyAlignment).u32(uint32(ValueUint64)).u64(32).get(), `"general.alignment" holds uint64, want uint32`, ErrCorrupt},
		{"tensor name too long", new(raw).header(1, 0).tensor(strings.Repeat("x", 64), TypeF32, 0, 1).align(32).data(32).get(), "name of 64 bytes is longer than 63", ErrCorrupt},
		{"duplicate tensor name", new(raw).header(2, 0).tensor("t", TypeF32, 0, 1).tensor("t", TypeF32, 32, 1).align(32).data(64).get(), `tensor "t": duplicate name`, ErrCorrupt},
		{"five dimensions", new(raw).header(1, 0).tensor("t", TypeF32, 0, 1, 1, 1, 1, 1).align(32).data(32).get(), "5 dimensions (want 1 to 4)", ErrCorrupt},
		{"zero dimensions", new(raw).header(1, 0).tensor("t", TypeF32, 0).align(32).data(32).get(), "0 dimensions", ErrCorrupt},
		{"huge dimension count", new(raw).header(1, 0).str("t").u32(math.MaxUint32).data(64).get(), "4294967295 dimensions", ErrCorrupt},
		{"zero dimension", new(raw).header(1, 0).tensor("t", TypeF32, 0, 4, 0).align(32).data(32).get(), "dimension 1 is 0", ErrCorrupt},
		{"negative dimension", new(raw).header(1, 0).tensor("t", TypeF32, 0, math.MaxUint64).align(32).data(32).get(), "dimension 0 is -1", ErrCorrupt},
		{"element count overflow", new(raw).header(1, 0).tensor("t", TypeF32, 0, 1<<32, 1<<32).align(32).data(32).get(), "element count overflows", ErrCorrupt},
		{"unknown ggml type", new(raw).header(1, 0).tensor("t", Type(4), 0, 32).align(32).data(32).get(), "unknown type id 4", ErrCorrupt},
		{"type id out of range", new(raw).header(1, 0).tensor("t", Type(1000), 0, 32).align(32).data(32).get(), "unknown type id 1000", ErrCorrupt},
		{"row not a multiple of block size", new(raw).header(1, 0).tensor("t", TypeQ4_0, 0, 16, 2).align(32).data(64).get(), "row length 16 is not a multiple of the Q4_0 block size 32", ErrCorrupt},
		{"shape larger than file", new(raw).header(1, 0).tensor("t", TypeF32, 0, 1<<20).align(32).data(32).get(), "needs more bytes than the file", ErrCorrupt},
		{"overlapping tensors", new(raw).header(2, 0).tensor("a", TypeF32, 0, 16).tensor("b", TypeF32, 32, 8).align(32).data(96).get(), `tensor "b": data at offset 32 overlaps tensor "a"`, ErrCorrupt},
		{"same offset", new(raw).header(2, 0).tensor("a", TypeF32, 0, 8).tensor("b", TypeF32, 0, 8).align(32).data(64).get(), "overlaps", ErrCorrupt},
		{"misaligned offset", new(raw).header(1, 0).tensor("t", TypeF32, 4, 4).align(32).data(64).get(), "offset 4 is not a multiple of the alignment 32", ErrCorrupt},
		{"misaligned for custom alignment", new(raw).header(1, 1).kvU32(KeyAlignment, 64).tensor("t", TypeF32, 32, 4).align(64).data(128).get(), "offset 32 is not a multiple of the alignment 64", ErrCorrupt},
		{"offset past EOF", new(raw).header(1, 0).tensor("t", TypeF32, 1<<40, 4).align(32).data(32).get(), "runs past end of file", ErrCorrupt},
		{"offset near 2^64", new(raw).header(1, 0).tensor("t", TypeF32, math.MaxUint64-31, 4).align(32).data(32).get(), "runs past end of file", ErrCorrupt},
		{"data region too small", new(raw).header(1, 0).tensor("t", TypeF32, 0, 40).align(32).data(100).get(), "data at offset 0 (160 bytes) runs past end of file", ErrCorrupt},
		{"no data section", new(raw).header(1, 0).tensor("t", TypeF32, 0, 1).get(), "data section at offset", ErrCorrupt},
		{"truncated download", valid[:len(valid)-8], `tensor "b": data at offset 32 (16 bytes) runs past end of file`, ErrCorrupt},
		{"truncated in metadata", new(raw).header(0, 1).str("k").u32(uint32(ValueString)).str(strings.Repeat("v", 100)).get()[:95], "string value length 100", ErrCorrupt},
		{"truncated in tensor infos", valid[:140], "dimension of 8 bytes at offset 136 runs past end of file", ErrCorrupt},
	}
	v1 := bytes.Clone(valid)
	binary.LittleEndian.PutUint32(v1[4:], 1)
	cases[4] = malformedCase{"version 1", v1, "version 1", ErrUnsupported}
	return cases
}

func TestValidFileParses(t *testing.T) {
	b := validFile()
	f, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.Uint32("test.n"); err != nil || n != 7 || len(f.Tensors) != 2 || f.DataOffset%32 != 0 {
		t.Errorf("test.n = %d, %v; %d tensors; data offset %d", n, err, len(f.Tensors), f.DataOffset)
	}
	// GGUF v2 has the same layout as v3 (v3 only added big-endian files).
	binary.LittleEndian.PutUint32(b[4:], 2)
	f, err = Read(bytes.NewReader(b), int64(len(b)))
	if err != nil || f.Version != 2 || len(f.Tensors) != 2 {
		t.Errorf("version 2 file: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	for _, c := range malformedCases() {
		t.Run(c.name, func(t *testing.T) {
			f, err := Read(bytes.NewReader(c.file), int64(len(c.file)))
			if err == nil {
				t.Fatalf("parsed without error: %d tensors, %d keys", len(f.Tensors), len(f.KV))
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "gguf: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if !errors.Is(err, c.kind) {
				t.Errorf("error %q is not %v", err, c.kind)
			}
		})
	}
}

// TestOpenMalformed checks that Open reports the same errors through the
// memory-mapped path, naming the file.
func TestOpenMalformed(t *testing.T) {
	dir := t.TempDir()
	for _, c := range malformedCases()[:12] {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".gguf")
		if err := os.WriteFile(path, c.file, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) || !errors.Is(err, c.kind) {
			t.Errorf("%s: Open error %v, want %q naming %s", c.name, err, c.want, path)
		}
	}
}

func TestUnsupportedTypeIsCheckedNotRejected(t *testing.T) {
	size := TypeIQ2_XXS.RowSize(256)
	b := new(raw).header(1, 0).tensor("blk.0.ffn_up.weight", TypeIQ2_XXS, 0, 256).align(32).data(int(size)).get()
	f, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("a file with an IQ2_XXS tensor must parse (inspect lists it): %v", err)
	}
	err = f.Tensors[0].CheckType()
	want := `gguf: tensor "blk.0.ffn_up.weight": type IQ2_XXS not supported`
	if err == nil || err.Error() != want || !errors.Is(err, ErrUnsupported) {
		t.Errorf("CheckType = %v, want %q wrapping ErrUnsupported", err, want)
	}
	if err := f.CheckTypes(); err == nil || err.Error() != want {
		t.Errorf("CheckTypes = %v, want %q", err, want)
	}
	if err := Dequantize(TypeIQ2_XXS, make([]byte, size), make([]float32, 256)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Dequantize IQ2_XXS = %v, want ErrUnsupported", err)
	}
}

// allocBound is the most Read may allocate for an n-byte input: decoded
// metadata and tensor infos cost a bounded multiple of the bytes that encode
// them (the densest inputs, measured by TestReadAllocationBound, cost about
// 5x), plus fixed overhead.
func allocBound(n int) uint64 { return 16*uint64(n) + 128<<10 }

// allocOfRead returns the bytes Read allocates for b, and its error.
func allocOfRead(b []byte) (uint64, error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(bytes.NewReader(b), int64(len(b)))
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

// TestReadAllocationBound builds the inputs that decode to the most memory
// per byte (many tiny keys, many empty nested arrays or strings, many
// tensors) and checks them against allocBound.
func TestReadAllocationBound(t *testing.T) {
	const n = 20000
	kvs := new(raw).header(0, n)
	for i := range n {
		kvs.str(strconv.Itoa(i)).u32(uint32(ValueUint16)).u8(1).u8(2)
	}
	nested := new(raw).header(0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueArray)).u64(n)
	for range n {
		nested.u32(uint32(ValueUint8)).u64(0)
	}
	strs := new(raw).header(0, 1).str("k").u32(uint32(ValueArray)).u32(uint32(ValueString)).u64(n)
	for range n {
		strs.u64(0)
	}
	tensors := new(raw).header(n, 0)
	for i := range n {
		tensors.tensor(strconv.Itoa(i), TypeF32, uint64(32*i), 1)
	}
	tensors.align(32).data(32 * n)
	for _, c := range []struct {
		name string
		b    []byte
	}{{"tiny keys", kvs.get()}, {"nested empty arrays", nested.get()}, {"empty strings", strs.get()}, {"tensors", tensors.get()}} {
		got, err := allocOfRead(c.b)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if got > allocBound(len(c.b)) {
			t.Errorf("%s: Read of %d bytes allocated %d (bound %d)", c.name, len(c.b), got, allocBound(len(c.b)))
		}
		t.Logf("%s: %d bytes, %d allocated (%.1fx)", c.name, len(c.b), got, float64(got)/float64(len(c.b)))
	}
}

func FuzzRead(f *testing.F) {
	for _, c := range malformedCases() {
		f.Add(c.file)
	}
	f.Add(validFile())
	if ref, err := reftest.Find(); err == nil {
		paths, _ := filepath.Glob(filepath.Join(ref, "models", "*.gguf"))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, _ := allocOfRead(b); got > allocBound(len(b)) {
			t.Fatalf("Read of %d bytes allocated %d bytes (bound %d)", len(b), got, allocBound(len(b)))
		}
		file, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v is neither ErrCorrupt nor ErrUnsupported", err)
			}
			return
		}
		exerciseFile(t, file)
	})
}

// exerciseFile reads everything a parsed file offers and checks that writing
// it back is stable: rewrite(read(rewrite(file))) == rewrite(file).
func exerciseFile(t *testing.T, f *File) {
	for _, kv := range f.KV {
		f.String(kv.Key)
		f.Int(kv.Key)
		f.Uint32(kv.Key)
		f.Float32(kv.Key)
		f.Int32s(kv.Key)
		f.Float32s(kv.Key)
		f.Strings(kv.Key)
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		data, err := f.TensorData(ti)
		if err != nil {
			t.Fatalf("tensor %q of a parsed file: %v", ti.Name, err)
		}
		if ti.CheckType() == nil && ti.Shape[0] <= 1<<16 {
			row := make([]float32, ti.Shape[0])
			if err := Dequantize(ti.Type, data[:ti.RowSize()], row); err != nil {
				t.Fatalf("tensor %q: %v", ti.Name, err)
			}
		}
	}
	once := rewrite(t, f)
	g, err := Read(bytes.NewReader(once), int64(len(once)))
	if err != nil {
		t.Fatalf("rewritten file does not parse: %v", err)
	}
	if twice := rewrite(t, g); !bytes.Equal(once, twice) {
		t.Fatalf("rewriting is not stable")
	}
}

func rewrite(t *testing.T, f *File) []byte {
	w := NewWriter()
	for _, kv := range f.KV {
		w.AddKV(kv.Key, kv.Value)
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		data, _ := f.TensorData(ti)
		w.AddTensor(ti.Name, ti.Type, ti.Shape, data)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatalf("rewriting a parsed file: %v", err)
	}
	return buf.Bytes()
}
