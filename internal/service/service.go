// Package service holds what the daemons (neuron, cortex) share about running
// as a system service: the systemd readiness protocol (sd_notify), so that a
// Type=notify unit is "started" only once the daemon listens, the logger that
// writes text or JSON lines to stderr, which journald collects, the
// signals that stop a daemon and the drain that a second one cuts short, and the configuration decode hook for
// durations given as seconds.
package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Notify sends state ("READY=1", "STOPPING=1", "STATUS=...") to systemd as a
// datagram to the unix socket named by NOTIFY_SOCKET. Without NOTIFY_SOCKET
// (not under systemd) it does nothing.
func Notify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	if addr[0] == '@' { // an abstract socket (sd_notify(3))
		addr = "\x00" + addr[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}

// ParseLogLevel reads debug, info, warn or error.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("want debug, info, warn or error, got %q", s)
}

// NewLogger builds a daemon's logger writing to w at level; format is text
// or json.
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	lvl, err := ParseLogLevel(level)
	if err != nil {
		return nil, fmt.Errorf("config: log_level: %w", err)
	}
	o := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	}
	return nil, fmt.Errorf("config: log_format: want text or json, got %q", format)
}

// SecondsToDuration is a mapstructure decode hook that reads a bare number
// as seconds, so that a configuration may say shutdown_timeout = 110.
func SecondsToDuration(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(time.Duration(0)) {
		return data, nil
	}
	switch v := data.(type) {
	case int:
		return time.Duration(v) * time.Second, nil
	case int64:
		return time.Duration(v) * time.Second, nil
	case float64:
		return time.Duration(v * float64(time.Second)), nil
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return time.Duration(f * float64(time.Second)), nil
		}
	}
	return data, nil
}

// StopSignals returns the channel on which SIGTERM and SIGINT, the signals
// that stop a daemon, arrive from now on, and stop, which ends their
// delivery there.
func StopSignals() (signals <-chan os.Signal, stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	return sigs, func() { signal.Stop(sigs) }
}

// Drain returns the context of a daemon's drain: it ends after timeout, or
// at once when a second signal arrives on signals (logged on log), so that
// an operator can cut a long drain short. The caller must call cancel.
func Drain(signals <-chan os.Signal, timeout time.Duration, log *slog.Logger) (ctx context.Context, cancel context.CancelFunc) {
	ctx, cancel = context.WithTimeout(context.Background(), timeout)
	go func() {
		select {
		case sig := <-signals:
			log.Warn("second signal, ending open requests now", "signal", sig.String())
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
