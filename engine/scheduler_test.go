// This file tests continuous batching on the reference models: sequences
// that run together, joining and leaving at different steps, get the
// greedy tokens they get alone; a cancelled sequence leaves the others
// untouched; admission waits for a slot and the queue bound refuses; and
// every slot and KV block is back when all have ended.

package engine_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
)

// batchCase is one request of a batching test: a prompt of n tokens and a
// token limit; it starts once the request before it has emitted after
// tokens (0: at once).
type batchCase struct {
	prompt, max, after int
}

// batchPrompt returns a deterministic prompt of n tokens for case i.
func batchPrompt(i, n int) []int32 {
	p := make([]int32, n)
	for j := range p {
		p[j] = int32(3 + (i*131+j*17)%1900)
	}
	return p
}

// batchRequest is the greedy request of case i, with the log-probabilities
// of each token and its two runners-up: they differ unless the logits of
// every step are the same bit for bit.
func batchRequest(i int, c batchCase) engine.GenerateRequest {
	return engine.GenerateRequest{Tokens: batchPrompt(i, c.prompt), MaxTokens: c.max, IgnoreEOS: true, TopLogprobs: 2}
}

// runStaggered runs cases concurrently on g, case i starting when case
// i-1 has emitted cases[i].after tokens, and returns each one's tokens,
// log-probabilities and error. cancelAt, when >= 0, cancels case cancelIdx
// after it has emitted that many tokens.
func runStaggered(t *testing.T, g *engine.Generator, cases []batchCase, cancelIdx, cancelAt int) ([][]int32, [][]engine.TokenLogprob, []error) {
	t.Helper()
	got := make([][]int32, len(cases))
	lps := make([][]engine.TokenLogprob, len(cases))
	errs := make([]error, len(cases))
	started := make([]chan struct{}, len(cases)+1)
	for i := range started {
		started[i] = make(chan struct{})
	}
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Go(func() {
			if i > 0 {
				<-started[i]
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := 0
			var once sync.Once
			next := func() { once.Do(func() { close(started[i+1]) }) }
			defer next() // a case that ends early still lets the next start
			res, err := g.Generate(ctx, batchRequest(i, c), func(ev engine.Event) error {
				n += len(ev.Tokens)
				if i+1 < len(cases) && n >= cases[i+1].after {
					next()
				}
				if i == cancelIdx && n >= cancelAt {
					cancel()
				}
				return nil
			})
			errs[i] = err
			if res != nil {
				got[i], lps[i] = res.Tokens, res.Logprobs
			}
		})
	}
	wg.Wait()
	return got, lps, errs
}

// referenceTypes are reference models of every weight type: each takes its
// own MatMul kernels, which must all be batch invariant.
var referenceTypes = []string{"mini-q8_0", "mini-f32", "mini-q4_k_m", "mini-f16", "mini-bf16", "mini-q4_0", "mini-q5_k_m", "mini-q6_k"}

func TestBatchedGreedyMatchesAlone(t *testing.T) {
	reftest.Dir(t)
	cases := []batchCase{
		{prompt: 5, max: 24},
		{prompt: 70, max: 10, after: 2}, // a long prompt read while case 0 decodes
		{prompt: 3, max: 30, after: 1},  // joins mid-prefill of case 1's prompt
		{prompt: 33, max: 6, after: 0},  // leaves early
		{prompt: 12, max: 16, after: 3}, // waits for a slot (4 slots)
		{prompt: 150, max: 4, after: 1}, // a prompt over two step budgets
		{prompt: 9, max: 20, after: 0},
	}
	for _, name := range referenceTypes {
		t.Run(name, func(t *testing.T) {
			g, _ := genModel(t, reftest.Model(t, name), engine.ContextOptions{Seqs: 4, Ctx: 256, Batch: 128})
			g.SetStepTokens(64)
			want := make([][]int32, len(cases))
			wantLP := make([][]engine.TokenLogprob, len(cases))
			for i, c := range cases {
				res, err := g.Generate(context.Background(), batchRequest(i, c), nil)
				if err != nil {
					t.Fatal(err)
				}
				want[i], wantLP[i] = res.Tokens, res.Logprobs
			}
			before := g.Stats()
			got, gotLP, errs := runStaggered(t, g, cases, -1, 0)
			for i := range cases {
				if errs[i] != nil || !slices.Equal(got[i], want[i]) {
					t.Errorf("case %d: %v, tokens %v; alone %v", i, errs[i], got[i], want[i])
				} else if !reflect.DeepEqual(gotLP[i], wantLP[i]) {
					t.Errorf("case %d: the same tokens with other log-probabilities (the logits differ):\nbatched %v\nalone   %v", i, gotLP[i], wantLP[i])
				}
			}
			after := g.Stats()
			steps, rows := after.Steps-before.Steps, after.StepRows-before.StepRows
			// How much the sequences overlap depends on how promptly their
			// goroutines run (a loaded machine serializes them more), so
			// this asks only that they shared steps at all, well beyond
			// chance: at least one extra row per case.
			if steps == 0 || rows < steps+int64(len(cases)) {
				t.Errorf("%d steps of %d rows: the sequences did not share steps", steps, rows)
			}
			checkIdle(t, g)
		})
	}
}

func TestBatchedCancelLeavesOthers(t *testing.T) {
	reftest.Dir(t)
	g, _ := genModel(t, reftest.Model(t, "mini-q8_0"), engine.ContextOptions{Seqs: 3, Ctx: 128, Batch: 64})
	cases := []batchCase{{prompt: 6, max: 20}, {prompt: 11, max: 20, after: 1}, {prompt: 4, max: 20, after: 1}}
	want := make([][]int32, len(cases))
	for i, c := range cases {
		res, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: batchPrompt(i, c.prompt), MaxTokens: c.max, IgnoreEOS: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res.Tokens
	}
	got, _, errs := runStaggered(t, g, cases, 1, 5)
	if !errors.Is(errs[1], context.Canceled) || len(got[1]) >= 20 || !slices.Equal(got[1], want[1][:len(got[1])]) {
		t.Errorf("cancelled case: %v, %d tokens %v; alone %v", errs[1], len(got[1]), got[1], want[1])
	}
	for _, i := range []int{0, 2} {
		if errs[i] != nil || !slices.Equal(got[i], want[i]) {
			t.Errorf("case %d: %v, tokens %v; alone %v", i, errs[i], got[i], want[i])
		}
	}
	checkIdle(t, g)
}

// TestAdmissionQueue fills the one slot, checks that a second request
// waits and a third is refused by the queue bound, and that a waiter that
// gives up leaves the queue.
func TestAdmissionQueue(t *testing.T) {
	reftest.Dir(t)
	g, _ := genModel(t, reftest.Model(t, "mini-q8_0"), engine.ContextOptions{Seqs: 1, Ctx: 128, Batch: 32})
	g.SetMaxQueue(1)
	release := holdRunning(t, g, engine.GenerateRequest{Tokens: []int32{5, 6}, MaxTokens: 4, IgnoreEOS: true})
	waitCtx, giveUp := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		_, err := g.Generate(waitCtx, engine.GenerateRequest{Tokens: []int32{7}, MaxTokens: 2}, nil)
		waited <- err
	}()
	for g.Stats().Waiting != 1 {
		runtime.Gosched()
	}
	if _, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: []int32{8}, MaxTokens: 2}, nil); !errors.Is(err, engine.ErrQueueFull) {
		t.Errorf("third request: %v, want ErrQueueFull", err)
	}
	giveUp()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Errorf("waiter that gave up: %v", err)
	}
	if st := g.Stats(); st.Waiting != 0 || st.Running != 1 {
		t.Errorf("after giving up: %+v", st)
	}
	release()
	checkIdle(t, g)
}

// holdRunning starts req on g and returns once it has emitted its first
// event, holding it there (admitted, its slot and blocks taken) until the
// returned release is called, which waits for it to end.
func holdRunning(t *testing.T, g *engine.Generator, req engine.GenerateRequest) (release func()) {
	t.Helper()
	hold, running := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		first := true
		_, err := g.Generate(context.Background(), req, func(engine.Event) error {
			if first {
				first = false
				close(running)
				<-hold
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})
	<-running
	return func() {
		close(hold)
		wg.Wait()
	}
}

// checkIdle fails unless every slot and KV block of g is free.
func checkIdle(t *testing.T, g *engine.Generator) {
	t.Helper()
	if st, kv := g.Stats(), g.KVStats(); st.Running != 0 || st.Waiting != 0 || kv.Used != 0 {
		t.Errorf("idle generator: scheduler %+v, kv %+v", st, kv)
	}
}

// TestReservationBeyondCache checks that a request that could never fit
// the KV cache fails up front with the context error instead of waiting,
// and that one that fits runs.
func TestReservationBeyondCache(t *testing.T) {
	reftest.Dir(t)
	g, _ := genModel(t, reftest.Model(t, "mini-q8_0"), engine.ContextOptions{Seqs: 2, Ctx: 128, Batch: 32, Blocks: 2, BlockSize: 16})
	_, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: batchPrompt(0, 10), MaxTokens: 30, IgnoreEOS: true}, nil)
	var cl *engine.ContextLengthError
	if !errors.As(err, &cl) || cl.Ctx != 32 {
		t.Fatalf("40 positions in a 32-position cache: %v", err)
	}
	res, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: batchPrompt(0, 10), MaxTokens: 20, IgnoreEOS: true}, nil)
	if err != nil || len(res.Tokens) != 20 {
		t.Fatalf("30 positions: %v", err)
	}
	checkIdle(t, g)
}

// TestAdmissionWaitsForKV runs two requests whose reservations do not fit
// the cache together: with a slot free, the second waits for the first's
// blocks instead of failing, then runs.
func TestAdmissionWaitsForKV(t *testing.T) {
	reftest.Dir(t)
	g, _ := genModel(t, reftest.Model(t, "mini-q8_0"), engine.ContextOptions{Seqs: 2, Ctx: 64, Batch: 32, Blocks: 4, BlockSize: 16})
	release := holdRunning(t, g, engine.GenerateRequest{Tokens: batchPrompt(1, 10), MaxTokens: 30, IgnoreEOS: true})
	done := make(chan error, 1)
	go func() {
		res, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: batchPrompt(2, 10), MaxTokens: 20, IgnoreEOS: true}, nil)
		if err == nil && len(res.Tokens) != 20 {
			err = fmt.Errorf("%d tokens", len(res.Tokens))
		}
		done <- err
	}()
	for g.Stats().Waiting != 1 {
		runtime.Gosched()
	}
	if st := g.Stats(); st.Running != 1 {
		t.Errorf("while the cache is promised: %+v", st)
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("second request: %v", err)
	}
	checkIdle(t, g)
}

// TestPrefixReuseMatchesFresh runs a prompt, then a longer one that starts
// with it (a chat's next turn): the second skips the cached full blocks,
// says so in its usage, and gets the greedy tokens a generator with an
// empty cache gives it.
func TestPrefixReuseMatchesFresh(t *testing.T) {
	reftest.Dir(t)
	for _, name := range []string{"mini-q8_0", "mini-f32", "mini-q4_k_m"} {
		t.Run(name, func(t *testing.T) {
			o := engine.ContextOptions{Seqs: 2, Ctx: 256, Batch: 64}
			g, _ := genModel(t, reftest.Model(t, name), o)
			first := batchPrompt(1, 50)
			res, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: first, MaxTokens: 12, IgnoreEOS: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Usage.CachedTokens != 0 {
				t.Fatalf("first request: %d cached tokens", res.Usage.CachedTokens)
			}
			// The next turn: the first prompt, its reply, more.
			next := append(append(slices.Clone(first), res.Tokens...), batchPrompt(2, 9)...)
			req := engine.GenerateRequest{Tokens: next, MaxTokens: 16, IgnoreEOS: true}
			reused, err := g.Generate(context.Background(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			// 50 + 11 run tokens (the last sampled one was never run): 3
			// full blocks of 16.
			if reused.Usage.CachedTokens != 48 {
				t.Errorf("next turn: %d cached tokens, want 48", reused.Usage.CachedTokens)
			}
			fresh, _ := genModel(t, reftest.Model(t, name), o)
			want, err := fresh.Generate(context.Background(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want.Usage.CachedTokens != 0 || !slices.Equal(reused.Tokens, want.Tokens) {
				t.Errorf("with reuse %v; fresh (%d cached) %v", reused.Tokens, want.Usage.CachedTokens, want.Tokens)
			}
			checkIdle(t, g)
		})
	}
}

// TestBatchedSoak runs many requests of mixed lengths, more at once than
// there are slots, about one in six cancelled midway, several sharing
// prompt prefixes: every one that is not cancelled gets its tokens, no
// block or slot stays held, and the heap does not grow from the first
// half of the soak to the second.
func TestBatchedSoak(t *testing.T) {
	reftest.Dir(t)
	g, _ := genModel(t, reftest.Model(t, "mini-q8_0"), engine.ContextOptions{Seqs: 4, Ctx: 128, Batch: 64, Blocks: 24})
	g.SetStepTokens(24)
	round := func(seed uint64, n int) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 6)
		for i := range n {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				rng := rand.New(rand.NewPCG(seed, uint64(i)))
				prompt := batchPrompt(rng.IntN(5), 1+rng.IntN(60)) // five prompt families
				maxTok := 1 + rng.IntN(30)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cancelAt := -1
				if rng.IntN(6) == 0 {
					cancelAt = rng.IntN(maxTok)
				}
				got := 0
				res, err := g.Generate(ctx, engine.GenerateRequest{Tokens: prompt, MaxTokens: maxTok, IgnoreEOS: true}, func(ev engine.Event) error {
					got += len(ev.Tokens)
					if got > cancelAt && cancelAt >= 0 {
						cancel()
					}
					return nil
				})
				switch {
				case cancelAt >= 0 && errors.Is(err, context.Canceled):
				case err != nil:
					t.Errorf("request %d: %v", i, err)
				case len(res.Tokens) != maxTok:
					t.Errorf("request %d: %d tokens, want %d", i, len(res.Tokens), maxTok)
				}
			})
		}
		wg.Wait()
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	round(1, 60)
	before := heap()
	round(2, 60)
	after := heap()
	checkIdle(t, g)
	if kv := g.KVStats(); kv.Cached > kv.Total || kv.Used != 0 {
		t.Errorf("after the soak: %+v", kv)
	}
	if after > before+1<<20 {
		t.Errorf("heap grew from %d to %d bytes over the second half", before, after)
	}
	t.Logf("heap %d -> %d bytes; %+v", before, after, g.Stats())
}
