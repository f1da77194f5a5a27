// This file holds `cortex serve`: it reads the configuration, opens the API
// and metrics listeners, polls the fleet, tells systemd it is ready, and on
// SIGTERM or SIGINT stops accepting, drains running requests and streams for
// up to shutdown_timeout (a second signal ends the drain at once; streams
// still open then end with an error event), and exits 0.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/cortex"
	"github.com/helexa/helexa/internal/service"
)

func init() {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the gateway in front of the neurons",
		Long: `Serve one OpenAI-compatible endpoint (chat completions, completions, embeddings,
models) in front of the configured neurons, with /cortex/status, model placement,
a dashboard on / and Prometheus metrics on the metrics listener.

Configuration comes from the file given with --config (default
/etc/cortex/cortex.toml when it exists; see cortex.example.toml), CORTEX_*
environment variables (CORTEX_LISTEN, CORTEX_NEURONS=http://a:13131,http://b:13131,
CORTEX_API_KEYS, ...) and the flags below, each overriding the one before.
SIGTERM or SIGINT drains running requests for up to shutdown_timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd.Flags(), os.Environ(), fileExists)
			if err != nil {
				return err
			}
			log, err := service.NewLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return err
			}
			sigs, stop := service.StopSignals()
			defer stop()
			return (&daemon{cfg: cfg, log: log, signals: sigs}).run()
		},
	}
	addConfigFlags(cmd.Flags())
	rootCmd.AddCommand(cmd)
}

// fileExists reports whether path names a file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// daemon is one run of `cortex serve`.
type daemon struct {
	cfg *cortex.Config
	log *slog.Logger
	// signals delivers SIGTERM and SIGINT (a test sends on it directly).
	signals <-chan os.Signal
	// listening, when set, is called with the bound API address once the
	// gateway serves.
	listening func(api net.Addr)
}

// run serves until a signal and returns nil after a clean stop; an error
// means the gateway could not start.
func (d *daemon) run() error {
	g, err := cortex.New(*d.cfg, d.log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", d.cfg.Listen, err)
	}
	served := make(chan error, 2)
	var metricsSrv *http.Server
	if d.cfg.MetricsListen != "" {
		mln, err := net.Listen("tcp", d.cfg.MetricsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics_listen %s: %w", d.cfg.MetricsListen, err)
		}
		metricsSrv = &http.Server{Handler: g.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := metricsSrv.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				served <- fmt.Errorf("metrics: %w", err)
			}
		}()
		d.log.Info("metrics listening", "addr", mln.Addr().String())
	}
	pollCtx, stopPolling := context.WithCancel(context.Background())
	defer stopPolling()
	go g.Run(pollCtx)
	go func() { served <- g.Serve(ln) }()
	d.log.Info("cortex listening", "addr", ln.Addr().String(), "version", version,
		"neurons", len(d.cfg.Neurons), "neuron_dns", d.cfg.NeuronDNS, "api_keys", len(d.cfg.APIKeys) > 0)
	if err := service.Notify("READY=1\nSTATUS=serving on " + ln.Addr().String()); err != nil {
		d.log.Warn("systemd notification failed", "error", err.Error())
	}
	if d.listening != nil {
		d.listening(ln.Addr())
	}

	var serveErr error
	select {
	case sig := <-d.signals:
		d.log.Info("signal received, shutting down", "signal", sig.String(), "drain_timeout", d.cfg.ShutdownTimeout.String())
	case serveErr = <-served:
		d.log.Error("server stopped unexpectedly", "error", fmt.Sprint(serveErr))
	}
	service.Notify("STOPPING=1")
	start := time.Now()
	drain, endDrain := service.Drain(d.signals, d.cfg.ShutdownTimeout, d.log) // a second signal ends it at once
	defer endDrain()
	clean := g.Shutdown(drain)
	if metricsSrv != nil {
		metricsSrv.Close()
	}
	stopPolling()
	d.log.Info("requests drained", "clean", clean, "took", time.Since(start).Round(time.Millisecond).String())
	d.log.Info("cortex stopped")
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}
