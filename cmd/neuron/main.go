// Command neuron loads GGUF models in-process and serves them over an
// OpenAI-compatible HTTP API. This file holds the root command; each
// subcommand lives in a file of its own and adds itself in init, and cli.go
// runs them.
package main

import (
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

var rootCmd = &cobra.Command{
	Use:           "neuron",
	Short:         "neuron serves open-weight chat models from GGUF files",
	Version:       version,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	os.Exit(execute(os.Args[1:], os.Stderr))
}
