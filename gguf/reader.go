// This file holds the GGUF reader: it parses the header, the metadata and the
// tensor infos of a GGUF v2 or v3 little-endian file, validates every count,
// length, shape, type and offset against the file size, and locates the data
// section. Open memory-maps the file read-only; Read parses from any
// io.ReaderAt.
//
// Layout (ggml docs/gguf.md): magic "GGUF", uint32 version, uint64 tensor
// count, uint64 metadata count, the key/value pairs, the tensor infos, padding
// to general.alignment, then the tensor data.

package gguf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"sync"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrCorrupt marks a file that violates the GGUF format.
	ErrCorrupt = errors.New("gguf: corrupt file")
	// ErrUnsupported marks a valid file this package cannot handle: another
	// version, a big-endian file, a tensor type without dequantization.
	ErrUnsupported = errors.New("gguf: unsupported")
)

// Format constants (ggml gguf.h / docs/gguf.md).
const (
	magic            = 0x46554747 // "GGUF" read as a little-endian uint32
	DefaultAlignment = 32         // GGUF_DEFAULT_ALIGNMENT
	KeyAlignment     = "general.alignment"
	MaxDims          = 4                 // GGML_MAX_DIMS
	MaxNameLen       = 63                // GGML_MAX_NAME (64) less the terminating NUL
	minKVSize        = 8 + 4 + 1         // key length, value type, 1-byte value: a lower bound
	minTensorInfo    = 8 + 4 + 8 + 4 + 8 // empty name, 1 dim, type, offset
)

// TensorInfo describes one tensor of a GGUF file.
type TensorInfo struct {
	Name   string
	Type   Type
	Shape  []int64 // GGUF order, ne0 first
	Offset uint64  // relative to the start of the data section, as stored
	Size   int64   // bytes
}

// File is a parsed GGUF file. Metadata and tensor infos are decoded into
// memory; tensor data stays in the file (memory-mapped when opened with Open)
// and is reached through TensorData.
type File struct {
	Version    uint32
	Alignment  uint64
	KV         []KV         // file order
	Tensors    []TensorInfo // file order
	DataOffset int64        // absolute file offset of the data section
	Size       int64        // file size

	kvIndex     map[string]int
	tensorIndex map[string]int
	r           io.ReaderAt // data source for TensorData when data is nil
	data        []byte      // the whole file when memory-mapped
	closer      func() error
	fh          *os.File   // the opened file, kept for Check; nil for Read
	opened      stamp      // the file's identity when it was opened
	fhMu        sync.Mutex // orders Check against Close
}

// Open opens and parses the GGUF file at path. The file is memory-mapped
// read-only where the platform allows it, otherwise read with ReadAt. The
// File must be closed; slices from TensorData are invalid after Close.
func Open(path string) (*File, error) {
	fh, st, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if data, unmap, err := mmapFile(fh, size); err == nil {
		f, err := Read(bytesReaderAt(data), size)
		if err != nil {
			unmap()
			fh.Close()
			return nil, fmt.Errorf("%w (file %s)", err, path)
		}
		f.data, f.fh, f.opened = data, fh, stampOf(st)
		f.closer = func() error { return errors.Join(unmap(), fh.Close()) }
		return f, nil
	}
	f, err := Read(fh, size)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	f.fh, f.opened = fh, stampOf(st)
	f.closer = fh.Close
	return f, nil
}

// OpenRead opens and parses the GGUF file at path like Open, but never maps
// it: TensorData reads each tensor into memory of its own. A model loaded
// this way lives in the process's memory, not in the page cache, so the
// kernel cannot drop its pages under pressure and fault them back from the
// file (llama.cpp's --no-mmap).
func OpenRead(path string) (*File, error) {
	fh, st, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	f, err := Read(fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	f.fh, f.opened = fh, stampOf(st)
	f.closer = fh.Close
	return f, nil
}

// Close releases the mapping or the file. It is safe to call more than once.
func (f *File) Close() error {
	f.fhMu.Lock()
	defer f.fhMu.Unlock()
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer, f.data, f.r, f.fh = nil, nil, nil, nil
	return c()
}

// Mapped reports whether the tensor data is memory-mapped.
func (f *File) Mapped() bool { return f.data != nil }

// Read parses a GGUF file of the given size from r. TensorData reads through
// r, which must stay valid while the File is used.
func Read(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("gguf: negative size %d: %w", size, ErrCorrupt)
	}
	f := &File{Size: size, r: r}
	if err := f.parse(newDecoder(r, size)); err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	return f, nil
}

// bytesReaderAt reads from a memory mapping.
type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *File) parse(d *decoder) error {
	if err := f.parseHeader(d); err != nil {
		return err
	}
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return err
	}
	nKV, err := d.u64("metadata count")
	if err != nil {
		return err
	}
	if nKV > d.remaining()/minKVSize {
		return corruptf("metadata count %d exceeds what the %d-byte file can hold", nKV, f.Size)
	}
	if nTensors > (d.remaining()-nKV*minKVSize)/minTensorInfo {
		return corruptf("tensor count %d exceeds what the %d-byte file can hold", nTensors, f.Size)
	}
	if max(nKV, nTensors) > math.MaxInt32 && math.MaxInt == math.MaxInt32 {
		return unsupportedf("%d keys and %d tensors are too many for a 32-bit platform", nKV, nTensors)
	}
	if err := f.parseKV(d, int(nKV)); err != nil {
		return err
	}
	if err := f.parseAlignment(); err != nil {
		return err
	}
	if err := f.parseTensorInfos(d, int(nTensors)); err != nil {
		return err
	}
	f.DataOffset = alignUp(d.pos, int64(f.Alignment))
	return f.checkTensorData()
}

func (f *File) parseHeader(d *decoder) error {
	if f.Size < 4 {
		return corruptf("file of %d bytes is too short for a GGUF header", f.Size)
	}
	m, err := d.u32("magic")
	if err != nil {
		return err
	}
	if m != magic {
		// The bytes found are not echoed: a caller may have pointed Open at
		// a file that is not its own to read.
		return corruptf("bad magic: not a GGUF file")
	}
	if f.Size < 4+4+8+8 {
		return corruptf("file of %d bytes is too short for a GGUF header", f.Size)
	}
	v, err := d.u32("version")
	if err != nil {
		return err
	}
	f.Version = v
	switch {
	case v == 2 || v == 3:
		return nil
	case v == 1:
		return unsupportedf("GGUF version 1 (32-bit counts) is obsolete; convert the file again")
	case v != 0 && v&0xffff == 0 && bits.ReverseBytes32(v) <= 0xffff:
		return unsupportedf("byte-swapped version %#x: big-endian GGUF files are not supported", v)
	}
	return unsupportedf("GGUF version %d (supported: 2, 3)", v)
}

func (f *File) parseKV(d *decoder, n int) error {
	f.KV = make([]KV, 0, n)
	f.kvIndex = make(map[string]int, n)
	for i := range n {
		at := d.pos
		key, err := d.str("key")
		if err != nil {
			return fmt.Errorf("metadata %d: %w", i, err)
		}
		if key == "" {
			return corruptf("metadata %d at offset %d: empty key", i, at)
		}
		if _, dup := f.kvIndex[key]; dup {
			return corruptf("metadata %d at offset %d: duplicate key %q", i, at, key)
		}
		t, err := d.u32("value type")
		if err != nil {
			return fmt.Errorf("key %q: %w", key, err)
		}
		vt := ValueType(t)
		if !vt.Valid() {
			return corruptf("key %q: unknown value type %d", key, t)
		}
		v, err := d.value(vt, 0)
		if err != nil {
			return fmt.Errorf("key %q: %w", key, err)
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(f.KV, KV{Key: key, Type: vt, Value: v})
	}
	return nil
}

func (f *File) parseAlignment() error {
	f.Alignment = DefaultAlignment
	kv, ok := f.Lookup(KeyAlignment)
	if !ok {
		return nil
	}
	a, ok := kv.Value.(uint32) // gguf.cpp requires GGUF_TYPE_UINT32
	if !ok {
		return corruptf("key %q holds %s, want uint32", KeyAlignment, kv.Type)
	}
	if a == 0 || a&(a-1) != 0 {
		return corruptf("key %q: alignment %d is not a power of two", KeyAlignment, a)
	}
	f.Alignment = uint64(a)
	return nil
}

func (f *File) parseTensorInfos(d *decoder, n int) error {
	f.Tensors = make([]TensorInfo, 0, n)
	f.tensorIndex = make(map[string]int, n)
	var dims [MaxDims]uint64
	for i := range n {
		at := d.pos
		name, err := d.str("tensor name")
		if err != nil {
			return fmt.Errorf("tensor %d: %w", i, err)
		}
		if len(name) > MaxNameLen {
			return corruptf("tensor %d at offset %d: name of %d bytes is longer than %d", i, at, len(name), MaxNameLen)
		}
		if _, dup := f.tensorIndex[name]; dup {
			return corruptf("tensor %q: duplicate name", name)
		}
		nd, err := d.u32("dimension count")
		if err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		if nd == 0 || nd > MaxDims {
			return corruptf("tensor %q: %d dimensions (want 1 to %d)", name, nd, MaxDims)
		}
		for j := range nd {
			if dims[j], err = d.u64("dimension"); err != nil {
				return fmt.Errorf("tensor %q: %w", name, err)
			}
		}
		typ, err := d.u32("type")
		if err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		off, err := d.u64("offset")
		if err != nil {
			return fmt.Errorf("tensor %q: %w", name, err)
		}
		ti := TensorInfo{Name: name, Type: Type(typ), Offset: off}
		if err := ti.setShape(dims[:nd], f.Size); err != nil {
			return err
		}
		f.tensorIndex[name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, ti)
	}
	return nil
}

// setShape validates the dimensions and type and computes Size. Sizes above
// limit (the file size) are rejected, so later arithmetic cannot overflow.
func (t *TensorInfo) setShape(dims []uint64, limit int64) error {
	n := uint64(1)
	for j, x := range dims {
		if x == 0 || x > math.MaxInt64 {
			return corruptf("tensor %q: dimension %d is %d (want 1 to 2^63-1)", t.Name, j, int64(x))
		}
		hi, lo := bits.Mul64(n, x)
		if hi != 0 || lo > math.MaxInt64 {
			return corruptf("tensor %q: shape %v: element count overflows int64", t.Name, dims)
		}
		n = lo
	}
	if !t.Type.Known() {
		return corruptf("tensor %q: unknown type id %d", t.Name, uint32(t.Type))
	}
	bs, ts := uint64(t.Type.BlockSize()), uint64(t.Type.TypeSize())
	if dims[0]%bs != 0 {
		return corruptf("tensor %q: row length %d is not a multiple of the %s block size %d", t.Name, dims[0], t.Type, bs)
	}
	hi, size := bits.Mul64(n/bs, ts)
	if hi != 0 || size > uint64(limit) {
		return corruptf("tensor %q: shape %v of %s needs more bytes than the file's %d", t.Name, dims, t.Type, limit)
	}
	t.Shape = make([]int64, len(dims))
	for j, x := range dims {
		t.Shape[j] = int64(x)
	}
	t.Size = int64(size)
	return nil
}

// checkTensorData checks that every tensor's data is aligned, lies inside the
// file and overlaps no other tensor.
func (f *File) checkTensorData() error {
	if len(f.Tensors) == 0 {
		return nil
	}
	if f.DataOffset > f.Size {
		return corruptf("data section at offset %d beyond file size %d (file truncated?)", f.DataOffset, f.Size)
	}
	avail := uint64(f.Size - f.DataOffset)
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
		t := &f.Tensors[i]
		if t.Offset%f.Alignment != 0 {
			return corruptf("tensor %q: offset %d is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		}
		if t.Offset > avail || uint64(t.Size) > avail-t.Offset {
			return corruptf("tensor %q: data at offset %d (%d bytes) runs past end of file: the data section holds %d bytes (file size %d; truncated?)",
				t.Name, t.Offset, t.Size, avail, f.Size)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		oa, ob := f.Tensors[a].Offset, f.Tensors[b].Offset
		if oa != ob {
			if oa < ob {
				return -1
			}
			return 1
		}
		return a - b
	})
	for k := 1; k < len(order); k++ {
		p, t := &f.Tensors[order[k-1]], &f.Tensors[order[k]]
		if p.Offset+uint64(p.Size) > t.Offset {
			return corruptf("tensor %q: data at offset %d overlaps tensor %q (offset %d, %d bytes)", t.Name, t.Offset, p.Name, p.Offset, p.Size)
		}
	}
	return nil
}

// formatError is a parse error: its message says what and where, and it
// matches its sentinel (ErrCorrupt or ErrUnsupported) under errors.Is.
type formatError struct {
	msg  string
	kind error
}

func (e *formatError) Error() string        { return e.msg }
func (e *formatError) Is(target error) bool { return target == e.kind }

func corruptf(format string, args ...any) error {
	return &formatError{fmt.Sprintf(format, args...), ErrCorrupt}
}

func unsupportedf(format string, args ...any) error {
	return &formatError{fmt.Sprintf(format, args...), ErrUnsupported}
}

func alignUp(x, a int64) int64 { return (x + a - 1) / a * a }
