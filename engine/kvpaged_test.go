// Tests of the paged KV cache through Forward on a reference model: a
// sequence whose blocks are scattered among other sequences' gets the logits
// it gets alone, a prompt that reuses a published prefix gets the logits of
// a full prefill, the cache runs out with ErrKVFull and recovers, and block
// counts return to zero after many sequences.

package engine_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
)

// prompt returns n deterministic tokens of seed inside a 2048-token vocabulary.
func prompt(seed, n int) []int32 {
	t := make([]int32, n)
	for i := range t {
		t[i] = int32((seed*131 + i*17 + i*i) % 2000)
	}
	return t
}

// feed runs tokens at positions from.. of slot seq in one Forward and
// returns the last row's logits.
func feed(t *testing.T, c *engine.Context, seq int32, from int, tokens []int32) []float32 {
	t.Helper()
	rows := make([]engine.Row, len(tokens))
	for i, tok := range tokens {
		rows[i] = engine.Row{Token: tok, Pos: int32(from + i), Seq: seq}
	}
	logits := make([]float32, c.Model().Config().NVocab)
	if err := c.Forward(rows, []int{len(rows) - 1}, logits); err != nil {
		t.Fatalf("forward of sequence %d at %d: %v", seq, from, err)
	}
	return logits
}

// chunks are the Forward calls a sequence is fed in: a prefill split in
// two, then single decode rows.
var chunks = []int{7, 6, 1, 1, 1, 1, 1, 1}

// runAlone feeds tokens in chunks to slot 0 of a fresh context and returns
// the logits after each chunk.
func runAlone(t *testing.T, m *engine.Model, o engine.ContextOptions, tokens []int32) [][]float32 {
	t.Helper()
	c, err := m.NewContext(o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	var out [][]float32
	pos := 0
	for _, n := range chunks {
		out = append(out, feed(t, c, 0, pos, tokens[pos:pos+n]))
		pos += n
	}
	return out
}

func TestPagedScatteredBlocksMatchAlone(t *testing.T) {
	m := openModel(t, reftest.Model(t, "mini-f32"), 2)
	o := engine.ContextOptions{Seqs: 4, Ctx: 64, Batch: 16, BlockSize: 4}
	c, err := m.NewContext(o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	// Scramble the free list: two sequences take blocks and one gives its
	// blocks back, so later blocks come in no particular order.
	feed(t, c, 2, 0, prompt(9, 13))
	feed(t, c, 3, 0, prompt(8, 10))
	c.Release(2)
	// Three sequences run their chunks in turn: their blocks interleave.
	n := 0
	for _, k := range chunks {
		n += k
	}
	seqs := [][]int32{prompt(1, n), prompt(2, n), prompt(1, n)} // sequences 0 and 2 are the same tokens
	seqs[2][3] = 77                                             // ... but one token
	got := make([][][]float32, len(seqs))
	pos := make([]int, len(seqs))
	for _, k := range chunks {
		for s, tokens := range seqs {
			got[s] = append(got[s], feed(t, c, int32(s), pos[s], tokens[pos[s]:pos[s]+k]))
			pos[s] += k
		}
	}
	// The blocks of each sequence are interleaved with the others'.
	for s := range seqs {
		tab := c.BlockTable(int32(s))
		if !slices.ContainsFunc(tab[1:], func(b int32) bool { i := slices.Index(tab, b); return b != tab[i-1]+1 }) {
			t.Fatalf("sequence %d has consecutive blocks %v: the test scatters nothing", s, tab)
		}
		t.Logf("sequence %d: blocks %v", s, tab)
	}
	for s, tokens := range seqs {
		want := runAlone(t, m, engine.ContextOptions{Ctx: 64, Batch: 16}, tokens)
		for i := range want {
			if j := firstDiff(got[s][i], want[i]); j >= 0 {
				t.Fatalf("sequence %d, chunk %d: logit %d is %v among other sequences, %v alone", s, i, j, got[s][i][j], want[i][j])
			}
		}
	}
}

// firstDiff returns the first index where a and b differ bit for bit, or -1.
func firstDiff(a, b []float32) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

func TestPrefixReuseMatchesFullPrefill(t *testing.T) {
	m := openModel(t, reftest.Model(t, "mini-f32"), 2)
	o := engine.ContextOptions{Seqs: 2, Ctx: 64, Batch: 64, BlockSize: 4}
	system := prompt(5, 30)
	first := append(slices.Clone(system), prompt(6, 7)...)   // 37 tokens
	second := append(slices.Clone(system), prompt(7, 11)...) // shares 30 tokens: 7 blocks
	c, err := m.NewContext(o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	if err := c.Reserve(0, len(first)); err != nil {
		t.Fatal(err)
	}
	feed(t, c, 0, 0, first)
	c.Publish(0, first)
	c.Release(0)
	if st := c.KVStats(); st.Used != 0 || st.Cached != len(first)/4 {
		t.Fatalf("after publishing and releasing: %+v, want %d cached", st, len(first)/4)
	}
	reused := c.ReusePrefix(1, second)
	if reused != 28 {
		t.Fatalf("ReusePrefix reused %d positions, want 28", reused)
	}
	if err := c.Reserve(1, len(second)); err != nil {
		t.Fatal(err)
	}
	got := feed(t, c, 1, reused, second[reused:])

	// The same prompt in a fresh context, prefilled from 0 in the same two
	// steps (the first 28 positions, then the rest).
	ref, err := m.NewContext(o)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Free()
	feed(t, ref, 0, 0, second[:reused])
	want := feed(t, ref, 0, reused, second[reused:])
	if j := firstDiff(got, want); j >= 0 {
		t.Fatalf("logit %d after reusing the prefix is %v, %v after a full prefill", j, got[j], want[j])
	}
	// With f32 weights (no 8-bit activations, whose kernels depend on the
	// batch size) one Forward over the whole prompt gives the same bits.
	full, err := m.NewContext(o)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Free()
	one := feed(t, full, 0, 0, second)
	if j := firstDiff(got, one); j >= 0 {
		t.Fatalf("logit %d after reusing the prefix is %v, %v after a one-step prefill", j, got[j], one[j])
	}
}

func TestForwardKVFullThenRelease(t *testing.T) {
	m := openModel(t, reftest.Model(t, "mini-f16"), 1)
	c, err := m.NewContext(engine.ContextOptions{Seqs: 2, Ctx: 16, Blocks: 3, BlockSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	feed(t, c, 0, 0, prompt(1, 9)) // 3 blocks
	logits := make([]float32, m.Config().NVocab)
	err = c.Forward([]engine.Row{{Token: 1, Pos: 0, Seq: 1}}, []int{0}, logits)
	if !errors.Is(err, engine.ErrKVFull) {
		t.Fatalf("forward with every block held: %v, want ErrKVFull", err)
	}
	if err := c.Reserve(1, 4); !errors.Is(err, engine.ErrKVFull) {
		t.Fatalf("reserve with every block held: %v, want ErrKVFull", err)
	}
	if err := c.Reserve(1, 17); !errors.Is(err, engine.ErrContextLength) {
		t.Fatalf("reserve beyond the context: %v, want ErrContextLength", err)
	}
	c.Release(0)
	if err := c.Reserve(1, 12); err != nil {
		t.Fatalf("reserve after release: %v", err)
	}
	if err := c.Forward([]engine.Row{{Token: 1, Pos: 0, Seq: 0}}, nil, nil); !errors.Is(err, engine.ErrKVFull) {
		t.Fatalf("an unreserved slot took a promised block: %v", err)
	}
	feed(t, c, 1, 0, prompt(2, 12))
}

func TestKVStatsReturnToZero(t *testing.T) {
	m := openModel(t, reftest.Model(t, "mini-q4_k_m"), 2)
	const seqs = 3
	c, err := m.NewContext(engine.ContextOptions{Seqs: seqs, Ctx: 48, Blocks: 20, BlockSize: 4, Batch: 48})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	// Another goroutine watches the counts while sequences come and go.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if st := c.KVStats(); st.Used+st.Cached > st.Total {
				t.Errorf("stats %+v: more blocks than the cache has", st)
				return
			}
		}
	})
	r := rand.New(rand.NewPCG(1, 2))
	system := prompt(3, 12)
	pos := make([]int, seqs)
	toks := make([][]int32, seqs)
	for range 60 {
		s := int32(r.IntN(seqs))
		switch {
		case pos[s] == 0: // admit: a shared system prompt and a question
			toks[s] = append(slices.Clone(system), prompt(r.IntN(4), 1+r.IntN(10))...)
			n := c.ReusePrefix(s, toks[s])
			if err := c.Reserve(s, len(toks[s])+8); errors.Is(err, engine.ErrKVFull) {
				c.Release(s)
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			feed(t, c, s, n, toks[s][n:])
			pos[s] = len(toks[s])
		case r.IntN(4) == 0: // finish
			c.Publish(s, toks[s][:pos[s]])
			c.Release(s)
			pos[s] = 0
		default: // decode up to the reservation
			if pos[s] < len(toks[s])+8 {
				tok := int32(r.IntN(2000))
				feed(t, c, s, pos[s], []int32{tok})
				toks[s] = append(toks[s], tok)
				pos[s]++
			}
		}
	}
	for s := range int32(seqs) {
		c.Release(s)
	}
	close(stop)
	wg.Wait()
	st := c.KVStats()
	if st.Used != 0 || st.Total != 20 || st.BlockSize != 4 || st.Cached == 0 {
		t.Fatalf("after every sequence ended: %+v, want 0 used of 20 and some cached", st)
	}
	// The cache still serves a full-length sequence: the cached blocks are
	// evicted as needed.
	if err := c.Reserve(0, 48); err != nil {
		t.Fatal(err)
	}
	feed(t, c, 0, 0, prompt(11, 48))
	if st := c.KVStats(); st.Used != 12 {
		t.Fatalf("a 48-position sequence holds %d blocks, want 12", st.Used)
	}
}

// TestDecodeAcrossBlocksAllocatesNothing decodes a sequence one row at a
// time through many blocks: taking a block (from the free list or by
// evicting a cached one) allocates no memory.
func TestDecodeAcrossBlocksAllocatesNothing(t *testing.T) {
	m := openModel(t, reftest.Model(t, "mini-q8_0"), 1)
	c, err := m.NewContext(engine.ContextOptions{Seqs: 2, Ctx: 256, Blocks: 40, BlockSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free()
	// Slot 1 leaves a published prompt behind: later blocks are evicted.
	p := prompt(4, 100)
	feed(t, c, 1, 0, p)
	c.Publish(1, p)
	c.Release(1)
	logits := make([]float32, m.Config().NVocab)
	step, idx := []engine.Row{{Token: 5}}, []int{0}
	allocs := testing.AllocsPerRun(150, func() {
		if err := c.Forward(step, idx, logits); err != nil {
			t.Fatal(err)
		}
		step[0].Pos++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per decode step", allocs)
	}
	if st := c.KVStats(); st.Used != 38 || st.Cached != 2 {
		t.Fatalf("after 151 positions: %+v, want 38 blocks used and 2 of the prompt's 25 still cached", st)
	}
}

// TestKVStatsDuringFree reads the counts on another goroutine while the
// context is freed (a model list during an unload); go test -race checks
// that this is no data race.
func TestKVStatsDuringFree(t *testing.T) {
	m := openModel(t, reftest.Model(t, "mini-f16"), 1)
	c, err := m.NewContext(engine.ContextOptions{Seqs: 2, Ctx: 32})
	if err != nil {
		t.Fatal(err)
	}
	feed(t, c, 0, 0, prompt(1, 20))
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 1000 {
			if st := c.KVStats(); st.Total != 4 {
				t.Errorf("stats %+v during Free", st)
				return
			}
		}
	})
	c.Free()
	wg.Wait()
	if err := c.Forward([]engine.Row{{Pos: 20}}, nil, nil); !errors.Is(err, engine.ErrBadBatch) {
		t.Fatalf("forward on a freed context: %v, want ErrBadBatch", err)
	}
}
