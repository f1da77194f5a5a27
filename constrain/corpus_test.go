// Tests of the schema matcher against an independent validator
// (github.com/santhosh-tekuri/jsonschema/v6, format assertions on): every
// schema of the corpus in testdata/corpus.json (shapes of real APIs:
// nested objects, arrays of objects, enums, optional and nullable fields,
// recursive trees) is walked at random, byte by byte, among the bytes the
// matcher accepts; every walk must find a continuation at every step and
// every complete text must validate.
package constrain

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/helexa/helexa/internal/schematest"
)

// corpusEntry is one schema of the corpus.
type corpusEntry struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
}

// loadCorpus reads testdata/corpus.json.
func loadCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var c []corpusEntry
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// walk generates one text at random among the bytes m accepts, preferring
// bytes that close values so that the walk ends. It fails the test when a
// state has no continuation before the text is done.
func walk(t *testing.T, m *SchemaMatcher, rng *rand.Rand, maxSteps int) (string, bool) {
	t.Helper()
	var out []byte
	var cand []byte
	var weight []float64
	for step := 0; step < maxSteps; step++ {
		if m.Done() || (m.Complete() && rng.IntN(2) == 0) {
			return string(out), true
		}
		cand, weight = cand[:0], weight[:0]
		total := 0.0
		for c := range 256 {
			if !m.Accepts([]byte{byte(c)}) {
				continue
			}
			w := 1.0
			switch byte(c) {
			case '"', '}', ']':
				w = 30
			case ' ', '\n', '\t', '\r':
				w = 0.3
			case ',':
				w = 2
			}
			cand = append(cand, byte(c))
			weight = append(weight, w)
			total += w
		}
		if len(cand) == 0 {
			if m.Complete() {
				return string(out), true
			}
			t.Fatalf("dead end after %q: no byte continues it", out)
		}
		x := rng.Float64() * total
		pick := cand[len(cand)-1]
		for i, w := range weight {
			if x < w {
				pick = cand[i]
				break
			}
			x -= w
		}
		if !m.Feed([]byte{pick}) {
			t.Fatalf("Feed rejected %q after %q though Accepts took it", pick, out)
		}
		out = append(out, pick)
	}
	return string(out), m.Complete()
}

func TestCorpusRandomWalks(t *testing.T) {
	corpus := loadCorpus(t)
	if len(corpus) < 50 {
		t.Fatalf("corpus holds %d schemas, want at least 50", len(corpus))
	}
	for _, e := range corpus {
		t.Run(e.Name, func(t *testing.T) {
			s, err := Compile(e.Schema)
			if err != nil {
				t.Fatal(err)
			}
			ref := schematest.Compile(t, e.Schema)
			done := 0
			for seed := range uint64(12) {
				rng := rand.New(rand.NewPCG(seed, 7))
				text, ok := walk(t, s.NewMatcher(), rng, 4000)
				if !ok {
					continue
				}
				done++
				if err := schematest.Validate(ref, text); err != nil {
					t.Fatalf("seed %d: %s\ndoes not validate: %v", seed, text, err)
				}
			}
			if done < 6 {
				t.Fatalf("only %d of 12 walks completed", done)
			}
		})
	}
}
