// This file tests continuous batching on the reference models: sequences
// that run together, joining and leaving at different steps, get the
// greedy tokens they get alone; a cancelled sequence leaves the others
// untouched; admission waits for a slot and the queue bound refuses; and
// every slot and KV block is back when all have ended.

package engine_test

import (
	"context"
	"errors"
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
			if steps == 0 || float64(rows)/float64(steps) < 1.5 {
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
	hold := make(chan struct{})
	running := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		first := true
		_, err := g.Generate(context.Background(), engine.GenerateRequest{Tokens: []int32{5, 6}, MaxTokens: 4, IgnoreEOS: true}, func(engine.Event) error {
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
	close(hold)
	wg.Wait()
	checkIdle(t, g)
}

// checkIdle fails unless every slot and KV block of g is free.
func checkIdle(t *testing.T, g *engine.Generator) {
	t.Helper()
	if st, kv := g.Stats(), g.KVStats(); st.Running != 0 || st.Waiting != 0 || kv.Used != 0 {
		t.Errorf("idle generator: scheduler %+v, kv %+v", st, kv)
	}
}
