// This file holds the tokenizer benchmarks on a mixed-language corpus the
// benchmark generates (English prose, Go code, Chinese, emoji, numbers).
// They report MB/s (b.SetBytes) and tokens/s.
package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

// benchCorpus returns about n bytes of mixed text from a fixed seed.
func benchCorpus(n int) string {
	rng := rand.New(rand.NewPCG(42, 7))
	english := strings.Fields("the quick brown fox jumps over a lazy dog while engineers measure throughput of byte level tokenizers and nobody complains about latency today")
	chinese := []string{"中文", "测试", "分词器", "速度", "模型", "推理", "你好", "世界", "数据", "语言"}
	emoji := []string{"😀", "🚀", "👩\u200d💻", "🎉", "🤖", "❤️"}
	code := []string{
		"func (t *Tokenizer) Encode(text string) []int32 {\n",
		"\tfor i := 0; i < len(s); i++ {\n\t\tsum += x[i] * y[i]\n\t}\n",
		"if err != nil {\n\treturn nil, fmt.Errorf(\"load: %w\", err)\n}\n",
		"    def forward(self, x):\n        return self.proj(x) + 1\n",
	}
	var sb strings.Builder
	for sb.Len() < n {
		switch rng.IntN(5) {
		case 0, 1:
			for range 8 + rng.IntN(16) {
				w := english[rng.IntN(len(english))]
				if rng.IntN(8) == 0 {
					w = strings.ToUpper(w[:1]) + w[1:]
				}
				sb.WriteString(w)
				sb.WriteByte(' ')
			}
			sb.WriteString(".\n")
		case 2:
			sb.WriteString(code[rng.IntN(len(code))])
		case 3:
			for range 4 + rng.IntN(8) {
				sb.WriteString(chinese[rng.IntN(len(chinese))])
			}
			sb.WriteString("。")
			sb.WriteString(emoji[rng.IntN(len(emoji))])
			sb.WriteByte('\n')
		case 4:
			fmt.Fprintf(&sb, "%d items at $%.2f, id %x, %d%% done ", rng.IntN(100000), rng.Float64()*1000, rng.Uint32(), rng.IntN(101))
		}
	}
	return sb.String()
}

func benchEncode(b *testing.B, cold bool) {
	tk := qwen3(b)
	corpus := benchCorpus(1 << 20)
	ntok := len(tk.Encode(corpus))
	b.SetBytes(int64(len(corpus)))
	b.ResetTimer()
	for b.Loop() {
		if cold {
			tk.cache = newWordCache()
		}
		tk.Encode(corpus)
	}
	b.ReportMetric(float64(ntok)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkEncode encodes the corpus with the word cache warm, the steady
// state of a server.
func BenchmarkEncode(b *testing.B) { benchEncode(b, false) }

// BenchmarkEncodeCold empties the word cache before each pass, so every
// distinct piece goes through BPE once per pass.
func BenchmarkEncodeCold(b *testing.B) { benchEncode(b, true) }

func BenchmarkDecode(b *testing.B) {
	tk := qwen3(b)
	corpus := benchCorpus(1 << 20)
	ids := tk.Encode(corpus)
	b.SetBytes(int64(len(corpus)))
	for b.Loop() {
		tk.Decode(ids)
	}
	b.ReportMetric(float64(len(ids))*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkStreamDecode(b *testing.B) {
	tk := qwen3(b)
	corpus := benchCorpus(1 << 18)
	ids := tk.Encode(corpus)
	b.SetBytes(int64(len(corpus)))
	for b.Loop() {
		d := tk.NewDecoder()
		for _, id := range ids {
			d.Add(id)
		}
		d.Flush()
	}
	b.ReportMetric(float64(len(ids))*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkLoadTokenizerJSON measures FromFiles on the Qwen3 files.
func BenchmarkLoadTokenizerJSON(b *testing.B) {
	dir := reftest.Path(b, "qwen3-tokenizer")
	for b.Loop() {
		if _, err := FromFiles(dir+"/tokenizer.json", dir+"/tokenizer_config.json"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewFromVocab measures building the tokenizer from a parsed
// Qwen3 vocabulary, the part FromGGUF adds to reading the metadata.
func BenchmarkNewFromVocab(b *testing.B) {
	v := qwen3Vocab(b)
	for b.Loop() {
		if _, err := New(v); err != nil {
			b.Fatal(err)
		}
	}
}
