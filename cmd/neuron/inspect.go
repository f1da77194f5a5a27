// This file holds `neuron inspect`: it prints a GGUF file's version, its
// metadata and its tensor table (name, type, shape ne0 first, offset relative
// to the data section, bytes), as text with long values summarised or, with
// --json, as one JSON object with every value in full.

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/gguf"
)

func init() {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect FILE.gguf",
		Short: "Print a GGUF file's metadata and tensor table",
		Long: `Print the GGUF version, the metadata (long arrays and strings summarised) and the
tensor table: name, type, shape in GGUF order (ne0 first), offset relative to the
start of the data section as stored in the file, and size in bytes. With --json,
print the same as one JSON object with every value in full:
{"version":3,"metadata":{...},"tensors":[{"name":...,"type":"Q4_K","shape":[...],"offset":...,"size":...}]}.
A malformed file is an error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.OutOrStdout(), args[0], asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object with all values in full")
	rootCmd.AddCommand(cmd)
}

// runInspect parses the GGUF file at path and writes its description to out.
func runInspect(out io.Writer, path string, asJSON bool) error {
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if asJSON {
		return inspectJSON(out, f)
	}
	return inspectText(out, f)
}

// inspectTensor is one row of the tensor table in JSON.
type inspectTensor struct {
	Name   string  `json:"name"`
	Type   string  `json:"type"`
	Shape  []int64 `json:"shape"`
	Offset uint64  `json:"offset"`
	Size   int64   `json:"size"`
}

func inspectJSON(out io.Writer, f *gguf.File) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"version":%d,"metadata":{`, f.Version)
	for i, kv := range f.KV {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := marshal(kv.Key)
		if err != nil {
			return err
		}
		val, err := marshal(jsonValue(kv.Value))
		if err != nil {
			return fmt.Errorf("key %q: %w", kv.Key, err)
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	tensors := make([]inspectTensor, len(f.Tensors))
	for i, t := range f.Tensors {
		tensors[i] = inspectTensor{Name: t.Name, Type: t.Type.String(), Shape: t.Shape, Offset: t.Offset, Size: t.Size}
	}
	tb, err := marshal(tensors)
	if err != nil {
		return err
	}
	b.WriteString(`},"tensors":`)
	b.Write(tb)
	b.WriteString("}\n")
	_, err = out.Write(b.Bytes())
	return err
}

// marshal encodes v as compact JSON without escaping <, > and &, which
// chat templates are full of.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// jsonValue converts a metadata value to something encoding/json writes
// faithfully: byte arrays as numbers rather than base64, and non-finite
// floats (which JSON cannot hold) as the strings "NaN", "+Inf", "-Inf".
func jsonValue(v any) any {
	switch x := v.(type) {
	case float32:
		return jsonFloat(float64(x), 32)
	case float64:
		return jsonFloat(x, 64)
	case gguf.Array:
		switch s := x.Values.(type) {
		case []uint8:
			out := make([]uint16, len(s))
			for i, e := range s {
				out[i] = uint16(e)
			}
			return out
		case []float32:
			out := make([]any, len(s))
			for i, e := range s {
				out[i] = jsonFloat(float64(e), 32)
			}
			return out
		case []float64:
			out := make([]any, len(s))
			for i, e := range s {
				out[i] = jsonFloat(e, 64)
			}
			return out
		case []gguf.Array:
			out := make([]any, len(s))
			for i, e := range s {
				out[i] = jsonValue(e)
			}
			return out
		}
		return x.Values
	}
	return v
}

func jsonFloat(f float64, bits int) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, bits))
}

// Limits of the text summary.
const (
	summaryElems = 8  // array elements shown
	summaryChars = 72 // string bytes shown
)

func inspectText(out io.Writer, f *gguf.File) error {
	var dataBytes int64
	for _, t := range f.Tensors {
		dataBytes += t.Size
	}
	fmt.Fprintf(out, "GGUF version %d, %d bytes, alignment %d, data section at offset %d\n",
		f.Version, f.Size, f.Alignment, f.DataOffset)
	fmt.Fprintf(out, "\nmetadata: %d keys\n", len(f.KV))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, kv := range f.KV {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", kv.Key, typeLabel(kv), summarize(kv.Value))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\ntensors: %d, %d bytes\n", len(f.Tensors), dataBytes)
	wName, wType, wShape := len("name"), len("type"), len("shape")
	for _, t := range f.Tensors {
		wName = max(wName, len(t.Name))
		wType = max(wType, len(t.Type.String()))
		wShape = max(wShape, len(shapeString(t.Shape)))
	}
	fmt.Fprintf(out, "  %-*s  %-*s  %-*s  %12s  %12s\n", wName, "name", wType, "type", wShape, "shape", "offset", "bytes")
	for _, t := range f.Tensors {
		fmt.Fprintf(out, "  %-*s  %-*s  %-*s  %12d  %12d\n", wName, t.Name, wType, t.Type, wShape, shapeString(t.Shape), t.Offset, t.Size)
	}
	return nil
}

func typeLabel(kv gguf.KV) string {
	if a, ok := kv.Value.(gguf.Array); ok {
		return fmt.Sprintf("[%s; %d]", a.Type, a.Len())
	}
	return kv.Type.String()
}

func shapeString(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// summarize renders a value on one line, eliding long strings and arrays.
func summarize(v any) string {
	switch x := v.(type) {
	case string:
		return quoteShort(x)
	case gguf.Array:
		n := x.Len()
		parts := make([]string, 0, min(n, summaryElems)+1)
		for i := range min(n, summaryElems) {
			parts = append(parts, summarize(x.Elem(i)))
		}
		if n > summaryElems {
			parts = append(parts, fmt.Sprintf("... %d more", n-summaryElems))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

func quoteShort(s string) string {
	if len(s) <= summaryChars {
		return strconv.Quote(s)
	}
	cut := summaryChars
	for cut > 0 && s[cut]&0xc0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(s[:cut]), len(s))
}
