// This file loads a Vocab from Hugging Face tokenizer files: tokenizer.json
// (model, merges, added tokens, normalizer, pre-tokenizer) and, optionally,
// tokenizer_config.json (special tokens, add_bos_token, chat_template).

package tokenizer

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
)

// hfTokenizer is the part of tokenizer.json this package reads.
type hfTokenizer struct {
	AddedTokens   []hfAddedToken  `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	Decoder       json.RawMessage `json:"decoder"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Model         hfModel         `json:"model"`
}

type hfAddedToken struct {
	ID      int32  `json:"id"`
	Content string `json:"content"`
	Special bool   `json:"special"`
}

type hfModel struct {
	Type                    string           `json:"type"`
	Vocab                   map[string]int64 `json:"vocab"`
	Merges                  json.RawMessage  `json:"merges"`
	ByteFallback            bool             `json:"byte_fallback"`
	IgnoreMerges            bool             `json:"ignore_merges"`
	ContinuingSubwordPrefix string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         string           `json:"end_of_word_suffix"`
}

// hfComponent is a normalizer, pre-tokenizer or decoder object.
type hfComponent struct {
	Type          string          `json:"type"`
	Normalizers   []hfComponent   `json:"normalizers"`
	PreTokenizers []hfComponent   `json:"pretokenizers"`
	Pattern       json.RawMessage `json:"pattern"`
	Behavior      string          `json:"behavior"`
	Invert        bool            `json:"invert"`
	UseRegex      *bool           `json:"use_regex"`
	AddPrefix     bool            `json:"add_prefix_space"`
}

// hfConfig is the part of tokenizer_config.json this package reads.
type hfConfig struct {
	AddBOSToken        *bool                   `json:"add_bos_token"`
	BOSToken           json.RawMessage         `json:"bos_token"`
	EOSToken           json.RawMessage         `json:"eos_token"`
	PadToken           json.RawMessage         `json:"pad_token"`
	ChatTemplate       json.RawMessage         `json:"chat_template"`
	AddedTokensDecoder map[string]hfAddedToken `json:"added_tokens_decoder"`
}

// maxHFVocab bounds the ids accepted from tokenizer.json (no real model is
// near it), so a corrupt file cannot make us allocate without limit.
const maxHFVocab = 1 << 24

// FromFiles loads a tokenizer from a Hugging Face tokenizer.json and, when
// configPath is not "", its tokenizer_config.json.
func FromFiles(tokenizerJSON, configPath string) (*Tokenizer, error) {
	v, err := VocabFromFiles(tokenizerJSON, configPath)
	if err != nil {
		return nil, err
	}
	tk, err := New(v)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, tokenizerJSON)
	}
	return tk, nil
}

// VocabFromFiles reads the Vocab that FromFiles builds on.
func VocabFromFiles(tokenizerJSON, configPath string) (*Vocab, error) {
	data, err := readHFFile(tokenizerJSON)
	if err != nil {
		return nil, err
	}
	var cfgData []byte
	if configPath != "" {
		if cfgData, err = readHFFile(configPath); err != nil {
			return nil, err
		}
	}
	v, err := ParseHF(data, cfgData)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, tokenizerJSON)
	}
	return v, nil
}

// maxHFFileSize bounds the tokenizer files read into memory. The largest
// real tokenizer.json files (256k-entry vocabularies) are a few tens of
// megabytes; a file far bigger is something else, such as model weights
// named by mistake, and must not be read whole.
const maxHFFileSize = 256 << 20

// readHFFile reads a tokenizer file of at most maxHFFileSize bytes.
func readHFFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	// The size of a regular file refuses it before reading; the limited
	// read bounds the rest (a pipe, a device).
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	tooLarge := fmt.Errorf("tokenizer: %s: too large for a tokenizer file (more than %d bytes)", path, maxHFFileSize)
	if st.Mode().IsRegular() && st.Size() > maxHFFileSize {
		return nil, tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, maxHFFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if len(data) > maxHFFileSize {
		return nil, tooLarge
	}
	return data, nil
}

// ParseHF builds a Vocab from the contents of tokenizer.json and
// tokenizer_config.json (config may be nil).
func ParseHF(tokenizerJSON, config []byte) (*Vocab, error) {
	var hf hfTokenizer
	if err := json.Unmarshal(tokenizerJSON, &hf); err != nil {
		return nil, fmt.Errorf("tokenizer: tokenizer.json: %w", err)
	}
	var cfg hfConfig
	if len(config) > 0 {
		if err := json.Unmarshal(config, &cfg); err != nil {
			return nil, fmt.Errorf("tokenizer: tokenizer_config.json: %w", err)
		}
	}
	m := hf.Model
	if m.Type != "BPE" {
		return nil, fmt.Errorf("%w: unsupported model type %q (want BPE)", ErrInvalid, m.Type)
	}
	if m.ByteFallback || m.ContinuingSubwordPrefix != "" || m.EndOfWordSuffix != "" {
		return nil, fmt.Errorf("%w: unsupported BPE options (byte_fallback, continuing_subword_prefix or end_of_word_suffix)", ErrInvalid)
	}
	if err := checkByteLevelDecoder(hf.Decoder); err != nil {
		return nil, err
	}
	pre, err := hfPreTokenizer(hf.PreTokenizer)
	if err != nil {
		return nil, err
	}
	normalizer, err := hfNormalizer(hf.Normalizer)
	if err != nil {
		return nil, err
	}

	// Vocabulary, then added tokens (from tokenizer.json and from the
	// config's added_tokens_decoder), by id; ids without an entry become
	// unused rows.
	added := map[int64]hfAddedToken{}
	for id, a := range cfg.AddedTokensDecoder {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: tokenizer_config.json: added token id %q", ErrInvalid, id)
		}
		added[n] = a
	}
	for _, a := range hf.AddedTokens {
		added[int64(a.ID)] = a
	}
	size := int64(0)
	for tok, id := range m.Vocab {
		if id < 0 || id >= maxHFVocab {
			return nil, fmt.Errorf("%w: token %q: id %d out of range", ErrInvalid, tok, id)
		}
		size = max(size, id+1)
	}
	for id := range added {
		if id < 0 || id >= maxHFVocab {
			return nil, fmt.Errorf("%w: added token id %d out of range", ErrInvalid, id)
		}
		size = max(size, id+1)
	}
	if size > 2*int64(len(m.Vocab)+len(added))+1024 {
		return nil, fmt.Errorf("%w: ids up to %d for %d tokens", ErrInvalid, size-1, len(m.Vocab)+len(added))
	}
	v := &Vocab{
		Model:        "gpt2",
		Pre:          pre,
		Normalizer:   normalizer,
		IgnoreMerges: m.IgnoreMerges,
		Tokens:       make([]string, size),
		Types:        make([]TokenType, size),
		EOS:          -1,
		BOS:          -1,
		PAD:          -1,
	}
	for i := range v.Types {
		v.Types[i] = TypeUnused
	}
	seen := make([]bool, size)
	for tok, id := range m.Vocab {
		if seen[id] {
			return nil, fmt.Errorf("%w: id %d used by two tokens (%q)", ErrInvalid, id, tok)
		}
		seen[id] = true
		v.Tokens[id], v.Types[id] = tok, TypeNormal
	}
	ids := make([]int64, 0, len(added))
	for id := range added {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		a := added[id]
		if a.Content == "" {
			return nil, fmt.Errorf("%w: added token %d is empty", ErrInvalid, id)
		}
		v.Tokens[id] = a.Content
		v.Types[id] = TypeUserDefined
		if a.Special {
			v.Types[id] = TypeControl
		}
	}
	for i := range v.Tokens {
		if v.Types[i] == TypeUnused {
			v.Tokens[i] = fmt.Sprintf("[PAD%d]", i)
		}
	}

	if v.Merges, err = hfMerges(m.Merges); err != nil {
		return nil, err
	}

	index := make(map[string]int32, size)
	for i := len(v.Tokens) - 1; i >= 0; i-- {
		if v.Types[i] != TypeUnused {
			index[v.Tokens[i]] = int32(i)
		}
	}
	for _, s := range []struct {
		name string
		raw  json.RawMessage
		dst  *int32
	}{{"eos_token", cfg.EOSToken, &v.EOS}, {"bos_token", cfg.BOSToken, &v.BOS}, {"pad_token", cfg.PadToken, &v.PAD}} {
		tok, err := hfTokenName(s.raw)
		if err != nil {
			return nil, fmt.Errorf("%w: tokenizer_config.json: %s: %w", ErrInvalid, s.name, err)
		}
		if tok == "" {
			continue
		}
		id, ok := index[tok]
		if !ok {
			return nil, fmt.Errorf("%w: tokenizer_config.json: %s %q is not in the vocabulary", ErrInvalid, s.name, tok)
		}
		*s.dst = id
	}
	// A post-processor that puts a special token in front of every
	// sequence (Llama 3's TemplateProcessing) means BOS is added, unless
	// tokenizer_config.json says otherwise.
	if first := hfTemplateFirst(hf.PostProcessor); first != "" {
		if id, ok := index[first]; ok && (v.BOS < 0 || v.BOS == id) {
			v.BOS, v.AddBOS = id, true
		}
	}
	if cfg.AddBOSToken != nil {
		v.AddBOS = *cfg.AddBOSToken
	}
	if v.ChatTemplate, err = hfChatTemplate(cfg.ChatTemplate); err != nil {
		return nil, err
	}
	return v, nil
}

// hfMerges reads merges written as "left right" strings or as
// ["left", "right"] pairs (newer files).
func hfMerges(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%w: merges: %w", ErrInvalid, err)
	}
	out := make([][2]string, len(items))
	for i, item := range items {
		var line string
		if err := json.Unmarshal(item, &line); err == nil {
			p, ok := splitMerge(line)
			if !ok {
				return nil, fmt.Errorf("%w: merge %d %q is not two tokens separated by a space", ErrInvalid, i, line)
			}
			out[i] = p
			continue
		}
		var pair []string
		if err := json.Unmarshal(item, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("%w: merge %d is neither a string nor a pair of strings: %s", ErrInvalid, i, truncate(string(item), 80))
		}
		out[i] = [2]string{pair[0], pair[1]}
	}
	return out, nil
}

// hfTokenName reads a special token given as a string, as an object with a
// "content" field, or as null.
func hfTokenName(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", err
	}
	return obj.Content, nil
}

// hfChatTemplate reads chat_template given as a string or as a list of
// named templates (the one named "default" is used).
func hfChatTemplate(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return "", fmt.Errorf("%w: tokenizer_config.json: chat_template: %w", ErrInvalid, err)
	}
	for _, n := range named {
		if n.Name == "default" {
			return n.Template, nil
		}
	}
	return "", nil
}

// hfTemplateFirst returns the special token a TemplateProcessing
// post-processor (alone or in a Sequence) puts first in a single sequence,
// or "".
func hfTemplateFirst(raw json.RawMessage) string {
	var c struct {
		Type       string            `json:"type"`
		Processors []json.RawMessage `json:"processors"`
		Single     []struct {
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
		} `json:"single"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &c) != nil {
		return ""
	}
	switch c.Type {
	case "Sequence":
		for _, p := range c.Processors {
			if first := hfTemplateFirst(p); first != "" {
				return first
			}
		}
	case "TemplateProcessing":
		if len(c.Single) > 0 && c.Single[0].SpecialToken != nil {
			return c.Single[0].SpecialToken.ID
		}
	}
	return ""
}

// hfNormalizer maps the normalizer object to a Vocab.Normalizer value.
func hfNormalizer(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", fmt.Errorf("%w: normalizer: %w", ErrInvalid, err)
	}
	if c.Type == "Sequence" && len(c.Normalizers) == 1 {
		c = c.Normalizers[0]
	}
	if c.Type == "Sequence" && len(c.Normalizers) == 0 {
		return "", nil
	}
	switch c.Type {
	case "NFC", "NFD", "NFKC", "NFKD":
		return c.Type, nil
	}
	return "", fmt.Errorf("%w: unsupported normalizer %q", ErrInvalid, c.Type)
}

// hfPreTokenizer recognises the pre-tokenizer object and returns the name
// of the splitter that implements it.
func hfPreTokenizer(raw json.RawMessage) (string, error) {
	var c hfComponent
	if len(raw) == 0 || string(raw) == "null" {
		return "", fmt.Errorf("%w: no pre_tokenizer", ErrInvalid)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", fmt.Errorf("%w: pre_tokenizer: %w", ErrInvalid, err)
	}
	// ByteLevel with its own (GPT-2) regex.
	if c.Type == "ByteLevel" && (c.UseRegex == nil || *c.UseRegex) && !c.AddPrefix {
		return "gpt2", nil
	}
	// Split(pattern, Isolated) followed by ByteLevel without regex.
	if c.Type == "Sequence" && len(c.PreTokenizers) == 2 {
		split, bl := c.PreTokenizers[0], c.PreTokenizers[1]
		var pat struct{ Regex string }
		if split.Type == "Split" && split.Behavior == "Isolated" && !split.Invert &&
			bl.Type == "ByteLevel" && bl.UseRegex != nil && !*bl.UseRegex && !bl.AddPrefix &&
			json.Unmarshal(split.Pattern, &pat) == nil {
			switch pat.Regex {
			case qwen2Pattern:
				return "qwen2", nil
			case llama3Pattern:
				return "llama3", nil
			}
			return "", fmt.Errorf("%w: unsupported pre-tokenizer split pattern %q", ErrInvalid, pat.Regex)
		}
	}
	return "", fmt.Errorf("%w: unsupported pre_tokenizer %s", ErrInvalid, truncate(string(raw), 200))
}

// checkByteLevelDecoder accepts a ByteLevel decoder (or none).
func checkByteLevelDecoder(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var c hfComponent
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("%w: decoder: %w", ErrInvalid, err)
	}
	if c.Type != "ByteLevel" {
		return fmt.Errorf("%w: unsupported decoder %q (want ByteLevel)", ErrInvalid, c.Type)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
