// This file holds what every subcommand shares as a command-line program:
// running the root command and turning its error into an exit status (2
// with a usage hint for an unknown command, flag or argument count; 130
// after Ctrl-C, as shells expect), whether output may carry terminal escape
// codes (a terminal, and NO_COLOR unset), JSON output that leaves < > &
// as they are.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/hub"
)

// Exit statuses.
const (
	exitError       = 1
	exitUsage       = 2   // a mistyped command line (as getopt-style tools use)
	exitInterrupted = 130 // 128 + SIGINT, what shells report after Ctrl-C
)

// errInterrupted ends a command that Ctrl-C (SIGINT) stopped.
var errInterrupted = errors.New("interrupted")

// usageError is a command line that does not parse; cmd is the command it
// was meant for.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

var setupOnce sync.Once

// setupUsageErrors marks flag and argument-count errors of every command as
// usage errors.
func setupUsageErrors() {
	rootCmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{cmd: c, err: err} })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if args := c.Args; args != nil {
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return &usageError{cmd: cmd, err: err}
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(rootCmd)
}

// execute runs the command line args and returns the process's exit status,
// writing any error (and, for a usage error, a hint) to stderr.
func execute(args []string, stderr io.Writer) int {
	setupOnce.Do(setupUsageErrors)
	rootCmd.SetArgs(args)
	cmd, err := rootCmd.ExecuteC()
	if err == nil {
		return 0
	}
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "neuron: %v\nRun '%s --help' for usage.\n", ue.err, ue.cmd.CommandPath())
		return exitUsage
	case strings.HasPrefix(err.Error(), "unknown command"):
		// cobra's message already lists close matches ("Did you mean this?").
		fmt.Fprintf(stderr, "neuron: %s\nRun '%s --help' for usage.\n", strings.TrimRight(err.Error(), "\n"), cmd.CommandPath())
		return exitUsage
	case errors.Is(err, errInterrupted) || errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "neuron: interrupted")
		return exitInterrupted
	}
	fmt.Fprintln(stderr, "neuron:", err)
	return exitError
}

// styled reports whether output to f may use terminal escape codes: f is a
// terminal, NO_COLOR (https://no-color.org) is unset or empty, and TERM is
// not "dumb".
func styled(f *os.File) bool {
	return f != nil && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && hub.IsTerminal(f)
}

// printJSON writes v as one line of JSON, leaving < > & unescaped (model
// output is full of them: <think>, <tool_call>, code).
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// backends names the backends linked into the binary, e.g. cpu+cuda.
func backends() string { return strings.Join(engine.Backends(), "+") }
