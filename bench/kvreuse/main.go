// Command kvreuse measures what prompt-prefix reuse saves at the engine: the
// time to the first logits of a chat's second turn (a -history-token
// prefix already published by the first turn, then -turn new tokens),
// prefilled in full versus with ReusePrefix, alternating the two for
// -rounds rounds and printing each time and the medians.
//
//	go run ./bench/kvreuse -model q06-q8_0.gguf -history 1000 -turn 24 -rounds 3
package main

import (
	"flag"
	"fmt"
	"log"
	"slices"
	"time"

	"github.com/helexa/helexa/bench/internal/benchmodel"
	"github.com/helexa/helexa/engine"
)

func main() {
	path := flag.String("model", "", "GGUF model")
	history := flag.Int("history", 1000, "tokens of the conversation so far")
	turn := flag.Int("turn", 24, "new tokens of the second turn")
	rounds := flag.Int("rounds", 3, "rounds of full and reused prefill")
	threads := flag.Int("threads", 0, "CPU threads (0: all)")
	flag.Parse()
	m, closeModel, err := benchmodel.Open(*path, *threads)
	if err != nil {
		log.Fatal(err)
	}
	defer closeModel()
	n := *history + *turn
	c, err := m.NewContext(engine.ContextOptions{Seqs: 2, Ctx: n, Batch: 512})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Free()
	prompt := make([]int32, n)
	for i := range prompt {
		prompt[i] = int32((i*7919 + 13) % 1000)
	}
	logits := make([]float32, m.Config().NVocab)
	// prefill runs prompt[from:] in slot seq in batches and times it.
	prefill := func(seq int32, from int) time.Duration {
		start := time.Now()
		for i := from; i < n; i += 512 {
			rows := make([]engine.Row, 0, 512)
			for j := i; j < min(i+512, n); j++ {
				rows = append(rows, engine.Row{Token: prompt[j], Pos: int32(j), Seq: seq})
			}
			var want []int
			if i+len(rows) == n {
				want = []int{len(rows) - 1}
			}
			if err := c.Forward(rows, want, logits); err != nil {
				log.Fatal(err)
			}
		}
		return time.Since(start)
	}
	// The first turn: the history, published for reuse.
	first := prompt[:*history]
	for i := 0; i < len(first); i += 512 {
		rows := make([]engine.Row, 0, 512)
		for j := i; j < min(i+512, len(first)); j++ {
			rows = append(rows, engine.Row{Token: first[j], Pos: int32(j)})
		}
		if err := c.Forward(rows, nil, nil); err != nil {
			log.Fatal(err)
		}
	}
	c.Publish(0, first)
	c.Release(0)
	var full, reused []time.Duration
	for r := range *rounds {
		c.Release(1)
		full = append(full, prefill(1, 0))
		c.Release(1)
		from := c.ReusePrefix(1, prompt)
		reused = append(reused, prefill(1, from))
		fmt.Printf("round %d: full prefill of %d tokens %v; %d reused, %d prefilled %v\n", r, n, full[r].Round(time.Millisecond), from, n-from, reused[r].Round(time.Millisecond))
		c.Release(1)
	}
	slices.Sort(full)
	slices.Sort(reused)
	mf, mr := full[len(full)/2], reused[len(reused)/2]
	fmt.Printf("median: full %v, with reuse %v (%.1fx)\n", mf.Round(time.Millisecond), mr.Round(time.Millisecond), float64(mf)/float64(mr))
}
