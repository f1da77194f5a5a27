// This file holds `neuron soak`: it drives a running daemon with mixed
// traffic for a while — chats, streams of which about 15% are dropped
// midway, completions, load/unload cycles of a second model, /models
// pollers — and reports the requests, the answers by status, and the
// daemon's RSS, goroutines and open files (read from /proc/<pid>) at the
// start and the end. It speaks to the address given, meant for loopback.

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

func init() {
	var o soakOptions
	cmd := &cobra.Command{
		Use:   "soak",
		Short: "Drive a running neuron with mixed traffic and report errors and resource use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSoak(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.base, "url", "http://127.0.0.1:13131", "base URL of the daemon")
	f.StringVar(&o.model, "model", "", "id of a loaded model to chat with (required)")
	f.StringVar(&o.cycle, "cycle-model", "", "model file to load and unload in a loop (optional)")
	f.IntVar(&o.pid, "pid", 0, "daemon's process id, for RSS, goroutines and fds (/proc/<pid>)")
	f.DurationVar(&o.duration, "duration", time.Minute, "how long to run")
	f.IntVar(&o.workers, "workers", 6, "concurrent clients")
	rootCmd.AddCommand(cmd)
}

type soakOptions struct {
	base, model, cycle string
	pid, workers       int
	duration           time.Duration
}

// soakStats counts answers by kind and status.
type soakStats struct {
	mu     sync.Mutex
	counts map[string]int
	total  int
	fivexx int
}

func (s *soakStats) add(kind string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[kind+" "+strconv.Itoa(status)]++
	s.total++
	if status >= 500 {
		s.fivexx++
	}
}

// procStats reads a process's RSS (kB), threads and open fds; goroutines
// come from the daemon's /metrics (go_goroutines).
func procStats(base string, pid int) string {
	out := []string{}
	if pid > 0 {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "VmRSS:") || strings.HasPrefix(l, "Threads:") {
					out = append(out, strings.Join(strings.Fields(l), " "))
				}
			}
		}
		if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
			out = append(out, fmt.Sprintf("fds: %d", len(fds)))
		}
	}
	if resp, err := http.Get(base + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "go_goroutines ") || strings.HasPrefix(l, "process_open_fds ") || strings.HasPrefix(l, "process_resident_memory_bytes ") {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, ", ")
}

func runSoak(ctx context.Context, o soakOptions, w io.Writer) error {
	if o.model == "" {
		return fmt.Errorf("soak: --model is required")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	st := &soakStats{counts: map[string]int{}}
	client := &http.Client{Timeout: 2 * time.Minute}
	post := func(ctx context.Context, kind, path, body string) {
		req, _ := http.NewRequestWithContext(ctx, "POST", o.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			switch {
			case ctx.Err() == nil:
				st.add(kind+" (transport error)", 0)
			case strings.HasSuffix(kind, "dropped"): // left before the answer began
				st.add(kind+" early", 0)
			}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		st.add(kind, resp.StatusCode)
	}
	fmt.Fprintf(w, "start: %s\n", procStats(o.base, o.pid))
	start := time.Now()
	var wg sync.WaitGroup
	for i := range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for ctx.Err() == nil {
				n := 4 + rng.IntN(24)
				chat := fmt.Sprintf(`{"model":%q,"max_tokens":%d,"messages":[{"role":"user","content":"tell me about %d"}]`, o.model, n, rng.IntN(1000))
				switch k := rng.IntN(10); {
				case k < 3:
					post(ctx, "chat", "/v1/chat/completions", chat+"}")
				case k < 6:
					sctx, scancel := context.WithCancel(ctx)
					if rng.IntN(100) < 15 { // a client that leaves midway
						time.AfterFunc(time.Duration(5+rng.IntN(40))*time.Millisecond, scancel)
						post(sctx, "stream-dropped", "/v1/chat/completions", chat+`,"stream":true}`)
					} else {
						post(sctx, "stream", "/v1/chat/completions", chat+`,"stream":true,"stream_options":{"include_usage":true}}`)
					}
					scancel()
				case k < 8:
					post(ctx, "completion", "/v1/completions", fmt.Sprintf(`{"model":%q,"max_tokens":%d,"prompt":"once upon %d"}`, o.model, n, rng.IntN(1000)))
				default:
					req, _ := http.NewRequestWithContext(ctx, "GET", o.base+"/models", nil)
					if resp, err := client.Do(req); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						st.add("models", resp.StatusCode)
					}
				}
			}
		}()
	}
	if o.cycle != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				post(ctx, "load", "/models/load", fmt.Sprintf(`{"model":%q,"alias":"soak-cycle","ctx_size":256}`, o.cycle))
				post(ctx, "chat-cycle", "/v1/chat/completions", `{"model":"soak-cycle","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}`)
				post(ctx, "unload", "/models/unload", `{"model":"soak-cycle"}`)
			}
		}()
	}
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				fmt.Fprintf(w, "%5.0fs: %d requests, %d 5xx; %s\n", time.Since(start).Seconds(), st.total, st.fivexx, procStats(o.base, o.pid))
			}
		}
	}()
	wg.Wait()
	time.Sleep(2 * time.Second) // let the daemon settle before the last reading
	fmt.Fprintf(w, "end:   %s\n", procStats(o.base, o.pid))
	keys := make([]string, 0, len(st.counts))
	for k := range st.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "%d requests in %s, %d 5xx\n", st.total, time.Since(start).Round(time.Second), st.fivexx)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-32s %d\n", k, st.counts[k])
	}
	if st.fivexx > 0 {
		return fmt.Errorf("soak: %d answers were 5xx", st.fivexx)
	}
	return nil
}
