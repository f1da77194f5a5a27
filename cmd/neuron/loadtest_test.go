// Tests of `neuron loadtest` against a real daemon (engine, CPU backend)
// serving a tiny synthetic model: two concurrent streams whose report
// counts what was asked for, a model the server lacks, and command lines
// that do not make a test.

package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/helexa/helexa/engine"
)

func TestLoadtestRealDaemon(t *testing.T) {
	model := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := engine.WriteSynth(model, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "q8_0", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cfg := &Config{
		MaxQueue:      4,
		Hub:           HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine:        EngineConfig{Device: "cpu", Threads: 1, CtxSize: 256},
		DefaultModels: []DefaultModel{{Model: model, Alias: "tiny"}},
	}
	base, sigs, done := startDaemon(t, cfg, newEngineManager(cfg, slog.New(slog.NewJSONHandler(&logs, nil))), &logs)
	defer func() {
		sigs <- syscall.SIGTERM
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	var out, stderr bytes.Buffer
	resetFlags(t, "loadtest")
	rootCmd.SetOut(&out)
	defer rootCmd.SetOut(nil)
	// Banning the end-of-generation tokens makes every stream run to its
	// max_tokens, so the counts are exact.
	args := []string{"loadtest", "--url", base, "--model", "tiny", "--concurrency", "2", "--requests", "2",
		"--prompt-tokens", "40", "--max-tokens", "6", "--logit-bias", banEOG(t, model), "--json"}
	if got := execute(args, &stderr); got != 0 {
		t.Fatalf("status %d: %s", got, stderr.String())
	}
	var doc struct {
		Load []struct {
			Concurrency      int             `json:"concurrency"`
			Requests         int             `json:"requests"`
			Succeeded        int             `json:"succeeded"`
			Errors           map[string]int  `json:"errors"`
			CompletionTokens int             `json:"completion_tokens"`
			PromptTokens     int             `json:"prompt_tokens"`
			UsageReported    bool            `json:"usage_reported"`
			TokensPerSecond  float64         `json:"output_tokens_per_second"`
			ShortFinishes    int             `json:"short_finishes"`
			TTFT             struct{ N int } `json:"ttft_ms"`
			TPOT             struct{ N int } `json:"tpot_ms"`
		} `json:"load"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(doc.Load) != 1 {
		t.Fatalf("levels: %s", out.String())
	}
	r := doc.Load[0]
	if r.Concurrency != 2 || r.Requests != 2 || r.Succeeded != 2 || len(r.Errors) != 0 || r.ShortFinishes != 0 {
		t.Errorf("report %+v", r)
	}
	if r.CompletionTokens != 12 || !r.UsageReported || r.TokensPerSecond <= 0 || r.TTFT.N != 2 || r.TPOT.N != 2 {
		t.Errorf("report %+v", r)
	}
	// The warm-up measured the chat template's tokens: each prompt is
	// about 40 tokens as the server counts them (letters are one token
	// each in the synthetic vocabulary).
	if per := r.PromptTokens / 2; per < 36 || per > 44 {
		t.Errorf("prompt tokens per request %d, want about 40", per)
	}
	// Three requests reached the daemon: the warm-up and the two measured
	// (a request's log line follows its last byte, so wait for it).
	n := 0
	for start := time.Now(); time.Since(start) < 5*time.Second && n < 3; time.Sleep(10 * time.Millisecond) {
		n = strings.Count(logs.String(), `"path":"/v1/chat/completions"`)
	}
	if n != 3 {
		t.Errorf("%d chat requests in the log, want 3", n)
	}

	t.Run("unknown model", func(t *testing.T) {
		var stderr bytes.Buffer
		resetFlags(t, "loadtest")
		got := execute([]string{"loadtest", "--url", base, "--model", "absent", "--max-tokens", "2"}, &stderr)
		if got != exitError || !strings.Contains(stderr.String(), "warm-up request: http 404 model_not_found") {
			t.Errorf("status %d: %s", got, stderr.String())
		}
	})
}

func TestLoadtestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad sweep", []string{"--sweep", "1,x"}, "--sweep wants positive integers"},
		{"zero in sweep", []string{"--sweep", "0,2"}, "--sweep wants positive integers"},
		{"bad scenario", []string{"--scenario", "chaos"}, "--scenario must be load, multiturn or all"},
		{"bad logit bias", []string{"--logit-bias", "[1]"}, "--logit-bias must be a JSON object"},
		{"zero concurrency", []string{"--concurrency", "0"}, "concurrency must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			resetFlags(t, "loadtest")
			args := append([]string{"loadtest", "--url", "http://127.0.0.1:1", "--model", "m"}, tc.args...)
			if got := execute(args, &stderr); got != exitError || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("status %d, stderr %q, want %q", got, stderr.String(), tc.want)
			}
		})
	}
}

// resetFlags sets the flags of subcommand name back to their defaults, as
// values from an earlier execute in this process would otherwise stay.
func resetFlags(t *testing.T, name string) {
	t.Helper()
	cmd, _, err := rootCmd.Find([]string{name})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err := f.Value.Set(f.DefValue); err != nil && f.DefValue != "[]" {
			t.Fatalf("flag %s: %v", f.Name, err)
		}
		f.Changed = false
	})
}
