// This file holds the daemon's lifecycle, apart from the engine so that it
// can be tested with a fake model manager: bind the listener (a port in use
// fails before any model loads), serve while the default models load one by
// one (/health answers 503 "loading" until each has been tried), tell
// systemd it is ready, serve until SIGTERM or SIGINT, drain (running
// requests and streams may finish for up to shutdown_timeout, or until a
// second signal; streams still open then end with an error event), unload
// every model, and return nil so the process exits 0.

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/helexa/helexa/internal/service"
	"github.com/helexa/helexa/kernels"
	"github.com/helexa/helexa/server"
)

// unloadTimeout bounds the unloading of all models at exit; by then no
// request runs, so freeing memory is all that is left.
const unloadTimeout = 30 * time.Second

// daemon is one run of `neuron serve`.
type daemon struct {
	cfg    *Config
	models server.ModelManager
	log    *slog.Logger
	// signals delivers SIGTERM and SIGINT (a test sends on it directly).
	signals <-chan os.Signal
	// listening, when set, is called with the bound address once the
	// daemon serves.
	listening func(net.Addr)
}

// run runs the daemon until a signal and returns nil after a clean stop;
// an error means it could not start.
func (d *daemon) run() error {
	srv := server.New(server.Options{
		Models:             d.models,
		Logger:             d.log,
		APIKeys:            d.cfg.APIKeys,
		OpenMetrics:        !d.cfg.MetricsRequireKey,
		MaxQueue:           d.cfg.MaxQueue,
		AdvertiseURL:       d.cfg.AdvertiseURL,
		CORSAllowedOrigins: d.cfg.CORSAllowedOrigins,
		ReadHeaderTimeout:  d.cfg.ReadHeaderTimeout,
		ReadBodyTimeout:    d.cfg.ReadBodyTimeout,
		IdleTimeout:        d.cfg.IdleTimeout,
		AutoLoad:           d.cfg.AutoLoad,
		Evict:              d.cfg.evictOption(),
		Catalog:            toLoadRequests(d.cfg.Models),
		KeepAlive:          d.cfg.keepAliveOption(),
		Build:              server.BuildInfo{Version: version, Flavour: kernels.Current().Name, Backend: backends()},
	})

	// The first signal stops the daemon whatever it is doing; during the
	// default-model loads it cancels them. The watcher also ends when run
	// returns without a signal (the listener could not be opened).
	stop := make(chan struct{})
	loadCtx, cancelLoads := context.WithCancel(context.Background())
	defer cancelLoads()
	returned := make(chan struct{})
	defer close(returned)
	go func() {
		select {
		case sig, ok := <-d.signals:
			if ok {
				d.log.Info("signal received, shutting down", "signal", sig.String(), "drain_timeout", d.cfg.ShutdownTimeout.String())
			}
		case <-returned:
		}
		close(stop) // before the loads end, so that run sees why they did
		cancelLoads()
	}()

	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", d.cfg.Listen, err)
	}
	reqs := d.cfg.loadRequests()
	srv.ExpectDefaults(reqs) // listed as loading, /health 503, from the first request on
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }() // Serve marks the server ready unless it loads
	d.log.Info("neuron listening", "addr", ln.Addr().String(), "version", version, "api_keys", len(d.cfg.APIKeys) > 0)
	if d.listening != nil {
		d.listening(ln.Addr())
	}
	if len(reqs) > 0 {
		service.Notify(fmt.Sprintf("STATUS=loading %d default models", len(reqs)))
		n := srv.LoadDefaults(loadCtx, reqs)
		d.log.Info("default models loaded", "loaded", n, "configured", len(reqs))
		srv.LoadingDone()
	}
	select {
	case <-stop:
	default:
		if err := service.Notify("READY=1\nSTATUS=serving on " + ln.Addr().String()); err != nil {
			d.log.Warn("systemd notification failed", "error", err.Error())
		}
	}

	var serveErr error
	select {
	case <-stop:
	case serveErr = <-served:
		d.log.Error("server stopped unexpectedly", "error", fmt.Sprint(serveErr))
	}
	service.Notify("STOPPING=1")
	start := time.Now()
	drain, endDrain := service.Drain(d.signals, d.cfg.ShutdownTimeout, d.log) // a second signal ends it at once
	defer endDrain()
	clean := srv.Shutdown(drain)
	if serveErr == nil {
		serveErr = <-served
	}
	d.log.Info("requests drained", "clean", clean, "took", time.Since(start).Round(time.Millisecond).String())
	d.unloadAll(srv)
	d.log.Info("neuron stopped")
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}

// unloadAll frees every model, warning about (and skipping) failures.
func (d *daemon) unloadAll(srv *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), unloadTimeout)
	defer cancel()
	srv.UnloadAll(ctx)
}
