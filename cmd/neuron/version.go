// This file holds `neuron version` and the text of `neuron --version`: the
// version stamp, the GPU flavour the binary was built as and the kernels it
// embeds (see kernels/flavours.go).
package main

import (
	"fmt"
	"runtime"

	"github.com/helexa/helexa/kernels"
	"github.com/spf13/cobra"
)

// versionText returns the lines `neuron --version` and `neuron version`
// print: the release, Go version, platform and backends linked in, then
// the GPU flavour and the kernels it embeds.
func versionText() string {
	return fmt.Sprintf("neuron %s (%s, %s/%s, backends %s)\n%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH,
		backends(), kernels.Describe())
}

func init() {
	rootCmd.SetVersionTemplate("{{.Version}}")
	rootCmd.Version = versionText()
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version, the GPU flavour and the embedded kernels",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), versionText())
			return err
		},
	})
}
