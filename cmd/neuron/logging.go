// This file holds the daemon's logger: text or JSON lines on stderr (which
// journald collects under systemd), at a configured level.

package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// parseLogLevel reads debug, info, warn or error.
func parseLogLevel(s string) (slog.Level, error) {
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

// newLogger builds the daemon's logger; format is text or json.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	lvl, err := parseLogLevel(level)
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
