// Synthetic models: GGUF files with the real shapes of the Qwen3 family,
// random weights from a fixed seed, a synthetic vocabulary of the right size
// and the Qwen3 chat template. They let benchmarks and device checks run on
// 0.6B-32B shapes without downloads, and they load in llama.cpp too.
//
// Tensors are streamed to the file as they are generated, and quantized
// tensors are random valid blocks made directly (a sane f16 scale, random
// quants) rather than quantized from floats, so writing an 8B model costs
// little more than writing its bytes. The block scales are chosen so that
// every tensor's values have mean ~0 and the standard deviation of a typical
// initialization: 1/sqrt(fan_in) for projections, 1/sqrt(nEmbd) for the
// token embedding and output, 1 ± 0.1 for norm weights.

package engine

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/helexa/helexa/gguf"
)

// synthPreset is the shape of one model of a family.
type synthPreset struct {
	Name                                        string
	NLayer, NEmbd, NFF, NHead, NHeadKV, HeadDim int
	NVocab                                      int // rows of token_embd / output
	NBPE                                        int // byte-level BPE tokens before the added tokens
	NCtxTrain                                   int
	Tied                                        bool
	SizeLabel                                   string
}

// qwen3Presets are the Qwen3 dense models, from the config.json of each
// Hugging Face repository Qwen/Qwen3-{0.6B,1.7B,4B,8B,14B,32B}
// (num_hidden_layers, hidden_size, intermediate_size, num_attention_heads,
// num_key_value_heads, head_dim 128, vocab_size 151936,
// max_position_embeddings 40960, tie_word_embeddings). "tiny" has the shape
// of the reference mini models (2112-row vocabulary: 2048 BPE tokens, the
// 26 added tokens, padding to a multiple of 64).
var qwen3Presets = []synthPreset{
	{Name: "tiny", NLayer: 2, NEmbd: 256, NFF: 512, NHead: 4, NHeadKV: 2, HeadDim: 64, NVocab: 2112, NBPE: 2048, NCtxTrain: 4096, SizeLabel: "2.3M"},
	{Name: "0.6b", NLayer: 28, NEmbd: 1024, NFF: 3072, NHead: 16, NHeadKV: 8, HeadDim: 128, NVocab: 151936, NBPE: 151643, NCtxTrain: 40960, Tied: true, SizeLabel: "0.6B"},
	{Name: "1.7b", NLayer: 28, NEmbd: 2048, NFF: 6144, NHead: 16, NHeadKV: 8, HeadDim: 128, NVocab: 151936, NBPE: 151643, NCtxTrain: 40960, Tied: true, SizeLabel: "1.7B"},
	{Name: "4b", NLayer: 36, NEmbd: 2560, NFF: 9728, NHead: 32, NHeadKV: 8, HeadDim: 128, NVocab: 151936, NBPE: 151643, NCtxTrain: 40960, Tied: true, SizeLabel: "4B"},
	{Name: "8b", NLayer: 36, NEmbd: 4096, NFF: 12288, NHead: 32, NHeadKV: 8, HeadDim: 128, NVocab: 151936, NBPE: 151643, NCtxTrain: 40960, SizeLabel: "8B"},
	{Name: "14b", NLayer: 40, NEmbd: 5120, NFF: 17408, NHead: 40, NHeadKV: 8, HeadDim: 128, NVocab: 151936, NBPE: 151643, NCtxTrain: 40960, SizeLabel: "14B"},
	{Name: "32b", NLayer: 64, NEmbd: 5120, NFF: 25600, NHead: 64, NHeadKV: 8, HeadDim: 128, NVocab: 151936, NBPE: 151643, NCtxTrain: 40960, SizeLabel: "32B"},
}

// SynthPresets returns the preset names of an architecture.
func SynthPresets(arch string) []string {
	if arch != "qwen3" {
		return nil
	}
	names := make([]string, len(qwen3Presets))
	for i, p := range qwen3Presets {
		names[i] = p.Name
	}
	return names
}

// synthFileType is a file type: the main tensor type, the llama.cpp
// general.file_type value (llama_ftype), and the K-quant mix of its layer
// tensors (synthLayerType).
type synthFileType struct {
	name  string
	main  gguf.Type
	ftype uint32
	mix   synthMix
}

// synthMix is how a file type picks the types of attn_v, attn_output and
// ffn_down, after llama.cpp's llama_tensor_get_type.
type synthMix uint8

const (
	mixNone synthMix = iota // every layer tensor of the main type
	mixKM                   // Q4_K_M, Q5_K_M: Q6_K where use_more_bits holds
	mixQ2K                  // Q2_K: Q3_K (Q4_K for attn_v with n_head/n_head_kv >= 4)
	mixQ3KM                 // Q3_K_M: Q4_K, Q5_K for the first attn_v and ffn_down
)

// synthFileTypes are the supported --type values; ftype numbers from
// llama.cpp's llama_ftype enum.
var synthFileTypes = []synthFileType{
	{"f32", gguf.TypeF32, 0, mixNone},
	{"f16", gguf.TypeF16, 1, mixNone},
	{"bf16", gguf.TypeBF16, 32, mixNone},
	{"q8_0", gguf.TypeQ8_0, 7, mixNone},
	{"q4_0", gguf.TypeQ4_0, 2, mixNone},
	{"q2_k", gguf.TypeQ2_K, 10, mixQ2K},
	{"q3_k_m", gguf.TypeQ3_K, 12, mixQ3KM},
	{"q4_k_m", gguf.TypeQ4_K, 15, mixKM},
	{"q5_k_m", gguf.TypeQ5_K, 17, mixKM},
	{"q6_k", gguf.TypeQ6_K, 18, mixNone},
}

// SynthTypes returns the supported file type names.
func SynthTypes() []string {
	names := make([]string, len(synthFileTypes))
	for i, t := range synthFileTypes {
		names[i] = t.name
	}
	return names
}

// SynthOptions select a synthetic model.
type SynthOptions struct {
	Arch   string // "qwen3"
	Preset string // "tiny", "0.6b", ... "32b"
	Type   string // "f32", "f16", "bf16", "q8_0", "q4_0", "q2_k", "q3_k_m", "q4_k_m", "q5_k_m", "q6_k"
	Seed   uint64
}

// NewSynthWriter returns a GGUF writer holding the synthetic model o: the
// metadata now, the tensors generated while the writer writes.
func NewSynthWriter(o SynthOptions) (*gguf.Writer, error) {
	if o.Arch != "qwen3" {
		return nil, fmt.Errorf("engine: synth: architecture %q not supported (have qwen3)", o.Arch)
	}
	i := slices.IndexFunc(qwen3Presets, func(p synthPreset) bool { return p.Name == strings.ToLower(o.Preset) })
	if i < 0 {
		return nil, fmt.Errorf("engine: synth: preset %q unknown (have %s)", o.Preset, strings.Join(SynthPresets("qwen3"), ", "))
	}
	p := qwen3Presets[i]
	j := slices.IndexFunc(synthFileTypes, func(t synthFileType) bool { return t.name == strings.ToLower(o.Type) })
	if j < 0 {
		return nil, fmt.Errorf("engine: synth: type %q unknown (have %s)", o.Type, strings.Join(SynthTypes(), ", "))
	}
	ft := synthFileTypes[j]

	w := gguf.NewWriter()
	w.AddKV("general.architecture", "qwen3")
	w.AddKV("general.type", "model")
	w.AddKV("general.name", "qwen3 synthetic "+p.Name)
	w.AddKV("general.size_label", p.SizeLabel)
	w.AddKV("qwen3.block_count", uint32(p.NLayer))
	w.AddKV("qwen3.context_length", uint32(p.NCtxTrain))
	w.AddKV("qwen3.embedding_length", uint32(p.NEmbd))
	w.AddKV("qwen3.feed_forward_length", uint32(p.NFF))
	w.AddKV("qwen3.attention.head_count", uint32(p.NHead))
	w.AddKV("qwen3.attention.head_count_kv", uint32(p.NHeadKV))
	w.AddKV("qwen3.rope.freq_base", float32(1e6))                    // Qwen3 rope_theta
	w.AddKV("qwen3.attention.layer_norm_rms_epsilon", float32(1e-6)) // Qwen3 rms_norm_eps
	w.AddKV("qwen3.attention.key_length", uint32(p.HeadDim))
	w.AddKV("qwen3.attention.value_length", uint32(p.HeadDim))
	w.AddKV("general.file_type", ft.ftype)
	w.AddKV("general.quantization_version", uint32(2)) // GGML_QNT_VERSION
	v := synthVocab(p)
	w.AddKV("tokenizer.ggml.model", "gpt2")
	w.AddKV("tokenizer.ggml.pre", "qwen2")
	w.AddKV("tokenizer.ggml.tokens", v.tokens)
	w.AddKV("tokenizer.ggml.token_type", v.types)
	w.AddKV("tokenizer.ggml.merges", v.merges)
	w.AddKV("tokenizer.ggml.eos_token_id", uint32(p.NBPE+2))     // <|im_end|>
	w.AddKV("tokenizer.ggml.padding_token_id", uint32(p.NBPE+0)) // <|endoftext|>
	w.AddKV("tokenizer.ggml.bos_token_id", uint32(p.NBPE+0))     // <|endoftext|>
	w.AddKV("tokenizer.ggml.add_bos_token", false)
	w.AddKV("tokenizer.chat_template", qwen3ChatTemplate)

	seed := o.Seed
	next := func() uint64 { seed++; return seed } // one stream per tensor
	mat := func(name string, typ gguf.Type, ne0, ne1 int, std float64) {
		s := next()
		w.AddTensorFunc(name, typ, []int64{int64(ne0), int64(ne1)}, func(out io.Writer) error {
			return writeRandomTensor(out, typ, ne0*ne1, std, s)
		})
	}
	norm := func(name string, n int) {
		s := next()
		w.AddTensorFunc(name, gguf.TypeF32, []int64{int64(n)}, func(out io.Writer) error {
			return writeNormWeights(out, n, s)
		})
	}
	embStd := 1 / math.Sqrt(float64(p.NEmbd))
	embType := ft.main
	if p.Tied {
		embType = synthOutputType(ft)
	}
	mat("token_embd.weight", embType, p.NEmbd, p.NVocab, embStd)
	for l := range p.NLayer {
		blk := func(s string) string { return "blk." + strconv.Itoa(l) + "." + s + ".weight" }
		qd, kvd := p.NHead*p.HeadDim, p.NHeadKV*p.HeadDim
		norm(blk("attn_norm"), p.NEmbd)
		mat(blk("attn_q"), ft.main, p.NEmbd, qd, 1/math.Sqrt(float64(p.NEmbd)))
		mat(blk("attn_k"), ft.main, p.NEmbd, kvd, 1/math.Sqrt(float64(p.NEmbd)))
		mat(blk("attn_v"), synthLayerType(ft, layerAttnV, l, p), p.NEmbd, kvd, 1/math.Sqrt(float64(p.NEmbd)))
		mat(blk("attn_output"), synthLayerType(ft, layerAttnOutput, l, p), qd, p.NEmbd, 1/math.Sqrt(float64(qd)))
		norm(blk("attn_q_norm"), p.HeadDim)
		norm(blk("attn_k_norm"), p.HeadDim)
		norm(blk("ffn_norm"), p.NEmbd)
		mat(blk("ffn_gate"), ft.main, p.NEmbd, p.NFF, 1/math.Sqrt(float64(p.NEmbd)))
		mat(blk("ffn_up"), ft.main, p.NEmbd, p.NFF, 1/math.Sqrt(float64(p.NEmbd)))
		mat(blk("ffn_down"), synthLayerType(ft, layerFFNDown, l, p), p.NFF, p.NEmbd, 1/math.Sqrt(float64(p.NFF)))
	}
	norm("output_norm.weight", p.NEmbd)
	if !p.Tied {
		mat("output.weight", synthOutputType(ft), p.NEmbd, p.NVocab, embStd)
	}
	return w, w.Err()
}

// WriteSynth writes the synthetic model o to path.
func WriteSynth(path string, o SynthOptions) error {
	w, err := NewSynthWriter(o)
	if err != nil {
		return err
	}
	if err := w.WriteFile(path); err != nil {
		return fmt.Errorf("engine: synth: %w", err)
	}
	return nil
}

// synthOutputType is the type of the output matrix (the token embedding
// when tied), as llama.cpp's llama_tensor_get_type picks it: Q6_K for the
// Q4_0 and K-quant files, the main type otherwise.
func synthOutputType(ft synthFileType) gguf.Type {
	switch ft.main {
	case gguf.TypeQ4_0, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeQ4_K, gguf.TypeQ5_K:
		return gguf.TypeQ6_K
	}
	return ft.main
}

// synthLayer names the layer tensors whose type a mix may change.
type synthLayer uint8

const (
	layerAttnV synthLayer = iota
	layerAttnOutput
	layerFFNDown
)

// synthLayerType is the type of attn_v, attn_output or ffn_down in layer l
// of preset p, as llama.cpp's llama_tensor_get_type picks it for a dense
// model without an importance matrix: the "_M" mixes give attn_v and
// ffn_down Q6_K where use_more_bits holds (the first and last eighth of the
// layers and every third layer in between); Q2_K gives all three Q3_K,
// except attn_v Q4_K where n_head/n_head_kv >= 4; Q3_K_M gives all three
// Q4_K, except Q5_K for attn_v in the first two layers and ffn_down in
// the first sixteenth.
func synthLayerType(ft synthFileType, t synthLayer, l int, p synthPreset) gguf.Type {
	n := p.NLayer
	switch ft.mix {
	case mixKM:
		if t != layerAttnOutput && (l < n/8 || l >= 7*n/8 || (l-n/8)%3 == 2) {
			return gguf.TypeQ6_K
		}
	case mixQ2K:
		if t == layerAttnV && p.NHead/p.NHeadKV >= 4 {
			return gguf.TypeQ4_K
		}
		return gguf.TypeQ3_K
	case mixQ3KM:
		if (t == layerAttnV && l < 2) || (t == layerFFNDown && l < n/16) {
			return gguf.TypeQ5_K
		}
		return gguf.TypeQ4_K
	}
	return ft.main
}

// synthVocabulary is a synthetic tokenizer vocabulary.
type synthVocabulary struct {
	tokens []string
	types  []int32
	merges []string
}

// Token types of tokenizer.ggml.token_type (llama.cpp llama_token_type).
const (
	tokNormal      = 1
	tokControl     = 3
	tokUserDefined = 4
	tokUnused      = 5
)

// qwen3AddedTokens are Qwen3's added tokens in id order (tokenizer.json),
// starting right after the BPE tokens (151643 in the real vocabulary).
var qwen3AddedTokens = []string{
	"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
	"<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
	"<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>",
	"</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>",
	"<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>", "<think>", "</think>",
}

// synthAlphabet is the set of byte-level symbols whose pairs get merges:
// "Ġ" (space) and the lower-case letters.
const synthAlphabet = "Ġabcdefghijklmnopqrstuvwxyz"

// synthVocab builds the vocabulary of p: the 256 byte-level symbols in
// GPT-2 order (ids 0-255, as in Qwen3), then every pair of synthAlphabet
// symbols with its merge, then filler words "Ġw<id>" up to the BPE size,
// then Qwen3's added tokens, then [PAD<id>] rows up to NVocab (as
// convert_hf_to_gguf.py pads Qwen3's 151669 tokens to 151936 rows).
func synthVocab(p synthPreset) synthVocabulary {
	v := synthVocabulary{
		tokens: make([]string, 0, p.NVocab),
		types:  make([]int32, 0, p.NVocab),
	}
	add := func(tok string, typ int32) {
		v.tokens = append(v.tokens, tok)
		v.types = append(v.types, typ)
	}
	for _, b := range gpt2ByteOrder() {
		add(string(byteSymbol(b)), tokNormal)
	}
	alpha := []rune(synthAlphabet)
pairs:
	for _, a := range alpha {
		for _, b := range alpha {
			if len(v.tokens) >= p.NBPE {
				break pairs
			}
			add(string([]rune{a, b}), tokNormal)
			v.merges = append(v.merges, string(a)+" "+string(b))
		}
	}
	for id := len(v.tokens); id < p.NBPE; id++ {
		add("Ġw"+strconv.Itoa(id), tokNormal)
	}
	for _, t := range qwen3AddedTokens {
		typ := int32(tokUserDefined)
		if strings.HasPrefix(t, "<|") {
			typ = tokControl
		}
		add(t, typ)
	}
	for id := len(v.tokens); id < p.NVocab; id++ {
		add("[PAD"+strconv.Itoa(id)+"]", tokUnused)
	}
	return v
}

// gpt2ByteOrder lists the 256 byte values in the order of GPT-2's
// bytes_to_unicode table: the printable ranges first, then the rest.
func gpt2ByteOrder() []byte {
	var order []byte
	for b := 0; b < 256; b++ {
		if printableByte(byte(b)) {
			order = append(order, byte(b))
		}
	}
	for b := 0; b < 256; b++ {
		if !printableByte(byte(b)) {
			order = append(order, byte(b))
		}
	}
	return order
}

// printableByte reports whether GPT-2's byte-level encoding maps b to the
// character with the same code: '!'..'~', '¡'..'¬', '®'..'ÿ'.
func printableByte(b byte) bool {
	return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE)
}

// byteSymbol is the byte-level character of byte b: itself when printable,
// else U+0100 + its index among the non-printable bytes.
func byteSymbol(b byte) rune {
	if printableByte(b) {
		return rune(b)
	}
	n := 0
	for c := 0; c < int(b); c++ {
		if !printableByte(byte(c)) {
			n++
		}
	}
	return rune(256 + n)
}

// synthChunkBlocks is how many blocks writeRandomTensor generates per write.
const synthChunkBlocks = 4096

// writeRandomTensor writes n random values of type typ with standard
// deviation ~std and mean ~0, from seed.
func writeRandomTensor(out io.Writer, typ gguf.Type, n int, std float64, seed uint64) error {
	var r rng
	r.seed(seed)
	bs, ts := typ.BlockSize(), typ.TypeSize()
	if bs <= 0 || n%bs != 0 {
		return fmt.Errorf("engine: synth: %d values of %v: not whole blocks", n, typ)
	}
	nBlocks := n / bs
	buf := make([]byte, min(nBlocks, synthChunkBlocks)*ts)
	for done := 0; done < nBlocks; {
		k := min(nBlocks-done, synthChunkBlocks)
		b := buf[:k*ts]
		if err := fillBlocks(b, typ, k, std, &r); err != nil {
			return err
		}
		if _, err := out.Write(b); err != nil {
			return err
		}
		done += k
	}
	return nil
}

// Standard deviations of the block formats' integer codes, used to choose
// the scale d that gives values of a target deviation (value = d·code):
//   - Q8_0: uniform int8 codes -128..127: sqrt((256²-1)/12) = 73.9.
//   - Q4_0: codes q-8 for uniform q in 0..15: sqrt((16²-1)/12) = 4.61.
//   - Q4_K: every sub-block scale 16 and min 30 with dmin = 4d, so a value
//     is d·(16q - 120) for q in 0..15: mean 0, deviation 16·4.61 = 73.8.
//   - Q5_K: sub-block scale 8 and min 31 with dmin = 4d, a value is
//     d·(8q - 124) for q in 0..31: mean 0, deviation 8·9.23 = 73.8.
//   - Q6_K: every scale 4, a value is d·4·(q-32) for q in 0..63: deviation
//     4·18.47 = 73.9 (mean -2d, negligible).
//   - Q2_K: every scale and min 15 with dmin = 1.5d, a value is
//     d·(15q - 22.5) for q in 0..3: mean 0, deviation 15·1.118 = 16.8.
//   - Q3_K: scales +16 and -16 by turns, a value is ±16d·(q-4) for q in
//     0..7: mean 0 over each pair of groups, deviation 16·2.29 = 36.7.
const (
	codeStdQ8_0 = 73.9
	codeStdQ4_0 = 4.61
	codeStdK    = 73.8
	codeStdQ2_K = 16.8
	codeStdQ3_K = 36.7
)

// kScalesQ3 are the 12 packed 6-bit Q3_K scale bytes (ggml's kmask layout:
// bytes 0-7 the low nibbles, 8-11 the high two bits of four scales each)
// giving the even groups 48 (+16 after the offset of 32) and the odd ones
// 16 (-16).
var kScalesQ3 = [12]byte{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x55, 0xff, 0x55}

// kScalesQ4 and kScalesQ5 are the 12 packed 6-bit scale/min bytes of a Q4_K
// or Q5_K block (ggml get_scale_min_k4 layout) giving every sub-block
// scale 16, min 30 (Q4_K) or scale 8, min 31 (Q5_K). Bytes 0-3 carry the
// scales of sub-blocks 0-3 in their low 6 bits and the high 2 bits of the
// scales of sub-blocks 4-7 on top; bytes 4-7 likewise for the mins; bytes
// 8-11 the low 4 bits of sub-blocks 4-7's scale (low nibble) and min (high).
var (
	kScalesQ4 = [12]byte{0x50, 0x50, 0x50, 0x50, 0x5E, 0x5E, 0x5E, 0x5E, 0xE0, 0xE0, 0xE0, 0xE0}
	kScalesQ5 = [12]byte{0x08, 0x08, 0x08, 0x08, 0x5F, 0x5F, 0x5F, 0x5F, 0xF8, 0xF8, 0xF8, 0xF8}
)

// fillBlocks fills b with k random blocks of typ.
func fillBlocks(b []byte, typ gguf.Type, k int, std float64, r *rng) error {
	switch typ {
	case gguf.TypeF32:
		a := std * math.Sqrt(3) // uniform(-a, a) has deviation std
		for i := 0; i+4 <= len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], math.Float32bits(float32((2*r.float64()-1)*a)))
		}
		return nil
	case gguf.TypeF16, gguf.TypeBF16:
		a := std * math.Sqrt(3)
		conv := gguf.F32ToF16
		if typ == gguf.TypeBF16 {
			conv = gguf.F32ToBF16
		}
		for i := 0; i+2 <= len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], conv(float32((2*r.float64()-1)*a)))
		}
		return nil
	}
	randomBytes(b, r)
	ts := typ.TypeSize()
	switch typ {
	case gguf.TypeQ8_0: // d f16, 32 int8 codes
		d := gguf.F32ToF16(float32(std / codeStdQ8_0))
		for i := 0; i < k; i++ {
			binary.LittleEndian.PutUint16(b[i*ts:], d)
		}
	case gguf.TypeQ4_0: // d f16, 16 bytes of 4-bit codes
		d := gguf.F32ToF16(float32(std / codeStdQ4_0))
		for i := 0; i < k; i++ {
			binary.LittleEndian.PutUint16(b[i*ts:], d)
		}
	case gguf.TypeQ4_K, gguf.TypeQ5_K: // d, dmin f16, 12 scale bytes, (qh,) qs
		dv := float32(std / codeStdK)
		d, dmin := gguf.F32ToF16(dv), gguf.F32ToF16(4*gguf.F16ToF32(gguf.F32ToF16(dv)))
		sc := &kScalesQ4
		if typ == gguf.TypeQ5_K {
			sc = &kScalesQ5
		}
		for i := 0; i < k; i++ {
			blk := b[i*ts:]
			binary.LittleEndian.PutUint16(blk[0:], d)
			binary.LittleEndian.PutUint16(blk[2:], dmin)
			copy(blk[4:16], sc[:])
		}
	case gguf.TypeQ2_K: // scales[16] (scale | min<<4), qs[64], d, dmin f16
		dv := float32(std / codeStdQ2_K)
		d, dmin := gguf.F32ToF16(dv), gguf.F32ToF16(1.5*gguf.F16ToF32(gguf.F32ToF16(dv)))
		for i := 0; i < k; i++ {
			blk := b[i*ts:]
			for j := range 16 {
				blk[j] = 0xff
			}
			binary.LittleEndian.PutUint16(blk[80:], d)
			binary.LittleEndian.PutUint16(blk[82:], dmin)
		}
	case gguf.TypeQ3_K: // hmask[32], qs[64], scales[12], d f16
		d := gguf.F32ToF16(float32(std / codeStdQ3_K))
		for i := 0; i < k; i++ {
			blk := b[i*ts:]
			copy(blk[96:108], kScalesQ3[:])
			binary.LittleEndian.PutUint16(blk[108:], d)
		}
	case gguf.TypeQ6_K: // ql[128], qh[64], int8 scales[16], d f16
		d := gguf.F32ToF16(float32(std / codeStdK))
		for i := 0; i < k; i++ {
			blk := b[i*ts:]
			for j := 192; j < 208; j++ {
				blk[j] = 4
			}
			binary.LittleEndian.PutUint16(blk[208:], d)
		}
	default:
		return fmt.Errorf("engine: synth: type %v not supported", typ)
	}
	return nil
}

// randomBytes fills b from r, 8 bytes per draw.
func randomBytes(b []byte, r *rng) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.next())
	}
	if i < len(b) {
		var tail [8]byte
		binary.LittleEndian.PutUint64(tail[:], r.next())
		copy(b[i:], tail[:])
	}
}

// writeNormWeights writes n F32 norm weights 1 + uniform(-0.1, 0.1).
func writeNormWeights(out io.Writer, n int, seed uint64) error {
	var r rng
	r.seed(seed)
	b := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(1+0.2*(r.float64()-0.5))))
	}
	_, err := out.Write(b)
	return err
}
