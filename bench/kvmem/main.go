// Command kvmem measures the memory of a model's context on the CPU
// backend: the KV cache's size, the Go heap and the resident memory the
// context takes when created, and what prefilling every sequence slot with
// -fill tokens adds (after a warm-up token has faulted the weights in).
//
//	go run ./bench/kvmem -model q06-q8_0.gguf -seqs 8 -ctx 4096 -fill 256
//	go run ./bench/kvmem -model q06-q8_0.gguf -seqs 8 -ctx 4096 -blocks 512 -fill 256
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/helexa/helexa/bench/internal/benchmodel"
	"github.com/helexa/helexa/engine"
)

func main() {
	path := flag.String("model", "", "GGUF model")
	seqs := flag.Int("seqs", 8, "sequence slots")
	ctx := flag.Int("ctx", 4096, "positions per sequence")
	blocks := flag.Int("blocks", 0, "KV cache blocks (0: every slot holds ctx)")
	fill := flag.Int("fill", 256, "tokens prefilled in every slot")
	threads := flag.Int("threads", 0, "CPU threads (0: all)")
	flag.Parse()
	m, closeModel, err := benchmodel.Open(*path, *threads)
	if err != nil {
		log.Fatal(err)
	}
	defer closeModel()

	heap0, rss0 := heap(), rss()
	c, err := m.NewContext(engine.ContextOptions{Seqs: *seqs, Ctx: *ctx, Blocks: *blocks, Batch: 512})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Free()
	o := c.Options()
	fmt.Printf("context: %d slots x %d positions, %d blocks of %d\n", o.Seqs, o.Ctx, o.Blocks, o.BlockSize)
	fmt.Printf("kv cache: %.1f MiB; created: heap +%.1f MiB, rss +%.1f MiB\n", mib(c.KVBytes()), mib(heap()-heap0), mib(rss()-rss0))

	// One token in the last slot faults in the weights (memory-mapped), so
	// that what follows counts the cache.
	if err := c.Forward([]engine.Row{{Seq: int32(o.Seqs - 1)}}, nil, nil); err != nil {
		log.Fatal(err)
	}
	c.Release(int32(o.Seqs - 1))
	heap0, rss0 = heap(), rss()
	start := time.Now()
	rows := make([]engine.Row, *fill)
	for s := range *seqs {
		for i := range rows {
			rows[i] = engine.Row{Token: int32((s*7919 + i*31) % 1000), Pos: int32(i), Seq: int32(s)}
		}
		for i := 0; i < len(rows); i += o.Batch {
			if err := c.Forward(rows[i:min(i+o.Batch, len(rows))], nil, nil); err != nil {
				log.Fatalf("slot %d: %v", s, err)
			}
		}
	}
	st := c.KVStats()
	fmt.Printf("after %d x %d tokens (%.1fs): %d of %d blocks used; since the warm-up: heap +%.1f MiB, rss +%.1f MiB\n",
		*seqs, *fill, time.Since(start).Seconds(), st.Used, st.Total, mib(heap()-heap0), mib(rss()-rss0))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// heap is the Go heap in use after a collection.
func heap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// rss is the process's resident memory (Linux VmRSS), 0 elsewhere.
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
