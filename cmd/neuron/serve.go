// This file holds `neuron serve`: it reads the configuration, builds the
// logger and the engine-backed model manager, and runs the daemon until
// SIGTERM or SIGINT.

package main

import (
	"os"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/internal/service"
)

func init() {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve models over an OpenAI-compatible HTTP API",
		Long: `Serve models over an OpenAI-compatible HTTP API (chat completions, completions,
models) with neuron's model-management endpoints, health and Prometheus metrics.

Configuration comes from the file given with --config (see neuron.example.toml),
NEURON_* environment variables (NEURON_LISTEN, NEURON_ENGINE_DEVICE,
NEURON_HUB_OFFLINE, NEURON_DEFAULT_MODELS=ref1,ref2, ...) and the flags below,
each overriding the one before. The listener opens first and the default models
load after it (GET /health answers 503 until each has been tried); SIGTERM or
SIGINT drains running requests for up to shutdown_timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd.Flags(), os.Environ())
			if err != nil {
				return err
			}
			log, err := service.NewLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return err
			}
			sigs, stop := service.StopSignals()
			defer stop()
			fwd, interrupted := watchInterrupt(sigs)
			d := &daemon{cfg: cfg, models: newEngineManager(cfg, log), log: log, signals: fwd}
			if err := d.run(); err != nil {
				return err
			}
			if interrupted.Load() {
				// Drained and stopped as for SIGTERM, but Ctrl-C exits 130.
				return errInterrupted
			}
			return nil
		},
	}
	addConfigFlags(cmd.Flags())
	rootCmd.AddCommand(cmd)
}

// watchInterrupt passes signals on and records whether the first was SIGINT
// (Ctrl-C), which decides the exit status after a clean stop.
func watchInterrupt(in <-chan os.Signal) (<-chan os.Signal, *atomic.Bool) {
	out := make(chan os.Signal, 1)
	var interrupted atomic.Bool
	go func() {
		first := true
		for sig := range in {
			if first {
				interrupted.Store(sig == os.Interrupt)
				first = false
			}
			out <- sig
		}
	}()
	return out, &interrupted
}
