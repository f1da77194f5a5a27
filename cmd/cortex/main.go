// Command cortex is the gateway in front of many neurons: it polls them,
// routes each request to a neuron that has the model, and proxies responses.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

var rootCmd = &cobra.Command{
	Use:           "cortex",
	Short:         "cortex routes OpenAI-compatible requests to neurons",
	Version:       version,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "cortex:", err)
		os.Exit(1)
	}
}
