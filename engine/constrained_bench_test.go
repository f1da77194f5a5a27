// Benchmarks of constrained decoding's cost per token on the Qwen3
// vocabulary (151936 rows), to set beside a CPU decode step of the
// Qwen3-0.6B shape in the same run (scripts/constraint-bench.sh writes the
// synthetic model and alternates the rounds): a json_schema reply replayed
// token by token through the constraint alone (the check of each token,
// or a mask of the whole vocabulary at each step), and through the
// sampler, when the model's first choice is
// allowed (the usual case), when it insists on invalid tokens so that
// every step falls back to a full-vocabulary mask, and the same
// unconstrained sampling as the baseline.
package engine_test

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/helexa/helexa/constrain"
	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/tokenizer"
)

// benchModelEnv names a GGUF file whose decode step BenchmarkConstraintOverhead
// measures beside the constraint (the script sets it to a synthetic
// Qwen3-0.6B).
const benchModelEnv = "HELEXA_BENCH_MODEL"

const (
	benchSchema = `{"type":"object","properties":{"city":{"type":"string"},"temperature_c":{"type":"number","minimum":-90,"maximum":60},` +
		`"conditions":{"enum":["sunny","cloudy","rain","snow"]},"observed":{"type":"string","format":"date-time"},` +
		`"forecast":{"type":"array","items":{"type":"object","properties":{"day":{"type":"string","format":"date"},"high":{"type":"integer"},"low":{"type":"integer"}},"required":["day","high","low"],"additionalProperties":false}}},` +
		`"required":["city","temperature_c","conditions","observed","forecast"],"additionalProperties":false}`
	benchReply = `{"city": "Saint-Étienne du Rouvray", "temperature_c": 17.5, "conditions": "cloudy", "observed": "2025-06-01T14:30:00Z", ` +
		`"forecast": [{"day": "2025-06-02", "high": 21, "low": 12}, {"day": "2025-06-03", "high": 19, "low": 11}, ` +
		`{"day": "2025-06-04", "high": 23, "low": 14}]}`
)

func BenchmarkConstraintOverhead(b *testing.B) {
	tok, err := tokenizer.FromFiles(reftest.Path(b, "qwen3-tokenizer", "tokenizer.json"), "")
	if err != nil {
		b.Fatal(err)
	}
	const nVocab = 151936 // Qwen3's output rows (config vocab_size)
	voc := engine.NewVocab(tok, nVocab)
	schema, err := constrain.Compile([]byte(benchSchema))
	if err != nil {
		b.Fatal(err)
	}
	reply := tok.Encode(benchReply)
	eos, ok := tok.ID("<|im_end|>")
	if !ok || !tok.IsEOG(eos) {
		b.Fatal("no <|im_end|> end-of-generation token")
	}
	// Logits of a model: noise, the reply's next token on top, or for a
	// model that insists on invalid tokens behind end of sequence and
	// the special tokens after it, more of them than the sampler
	// redraws, so that every step masks the whole vocabulary.
	noise := make([]float32, nVocab)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = float32(r.NormFloat64())
	}
	logits := make([]float32, nVocab)
	prepare := func(next int32, insist bool) {
		copy(logits, noise)
		logits[next] = 20
		if insist {
			for k := range int32(8) {
				logits[eos+k] = 30
			}
		}
	}
	replay := func(b *testing.B, constrained, insist bool) {
		s := engine.NewSampler(nVocab, 4096, engine.SamplingParams{}, 0)
		tokens := 0
		for b.Loop() {
			var c *constrain.Constraint
			if constrained {
				c = constrain.New(voc, schema.NewMatcher(), false)
			}
			for _, id := range reply {
				prepare(id, insist)
				var got int32
				if c != nil {
					var ok bool
					if got, ok = s.SampleAllowed(logits, nil, c.Allowed); !ok {
						b.Fatal("nothing allowed")
					}
					c.Accept(got)
				} else {
					got = s.Sample(logits, nil)
				}
				if got != id && !insist {
					b.Fatalf("sampled %d, want %d", got, id)
				}
				tokens++
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(tokens), "ns/token")
	}
	// The constraint alone: the check of the sampled token and the
	// advance past it, or a mask of the whole vocabulary at every step.
	alone := func(b *testing.B, fullMask bool) {
		tokens := 0
		for b.Loop() {
			c := constrain.New(voc, schema.NewMatcher(), false)
			for _, id := range reply {
				if fullMask {
					for v := range int32(nVocab) {
						c.Allowed(v)
					}
				}
				if !c.Allowed(id) {
					b.Fatalf("token %d not allowed", id)
				}
				c.Accept(id)
				tokens++
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(tokens), "ns/token")
	}
	b.Run("constraint check", func(b *testing.B) { alone(b, false) })
	b.Run("constraint full mask", func(b *testing.B) { alone(b, true) })
	b.Run("sample free", func(b *testing.B) { replay(b, false, false) })
	b.Run("sample constrained", func(b *testing.B) { replay(b, true, false) })
	b.Run("sample constrained, model insists", func(b *testing.B) { replay(b, true, true) })

	path := os.Getenv(benchModelEnv)
	if path == "" {
		return
	}
	b.Run("decode step", func(b *testing.B) {
		m := openModel(b, path, 0)
		c, err := m.NewContext(engine.ContextOptions{Ctx: 256, Batch: 64})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Free()
		const prompt = 64
		rows := make([]engine.Row, prompt)
		for i := range rows {
			rows[i] = engine.Row{Token: int32(i * 7 % 2048), Pos: int32(i)}
		}
		if err := c.Forward(rows, nil, nil); err != nil {
			b.Fatal(err)
		}
		out := make([]float32, m.Config().NVocab)
		step := []engine.Row{{Token: 11, Pos: prompt}}
		for b.Loop() {
			if err := c.Forward(step, []int{0}, out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/token")
	})
}
