// Package gguf reads and writes GGUF model files and converts between ggml's
// quantized block formats and float32. It uses the standard library only.
//
// Reading: Open memory-maps a file read-only (falling back to ReadAt) and
// parses GGUF v2 and v3 little-endian headers; Read parses from any
// io.ReaderAt. Every count, length, shape, type and offset is checked against
// the file size before anything is allocated or read, so a malformed file
// gives an error wrapping ErrCorrupt (or ErrUnsupported), never a panic or an
// allocation out of proportion to the file. Metadata is reached through typed
// accessors (File.String, File.Uint32, File.Strings, ...) whose errors name
// the key; tensors through File.Tensor and File.TensorData, which returns a
// slice of the mapping without copying.
//
// Converting: Dequantize and DequantizeRow turn F32, F16, BF16, Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0, Q2_K..Q6_K and Q8_K rows into float32 bit-identically to
// ggml; Quantize and QuantizeRow produce all of those types with ggml's
// reference quantizers. Other types (IQ*, TQ*, MXFP4) parse but are reported
// by TensorInfo.CheckType.
//
// Writing: Writer produces GGUF v3 files, streaming tensor data so that
// multi-gigabyte files need not be held in memory.
package gguf
