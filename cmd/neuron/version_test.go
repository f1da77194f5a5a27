// Tests of the version text: it names the build's version stamp, flavour
// and embedded PTX, through both `--version` and `version`.
package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/helexa/helexa/kernels"
)

func TestVersionNamesFlavourAndKernels(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out bytes.Buffer
			rootCmd.SetOut(&out)
			rootCmd.SetArgs(args)
			defer rootCmd.SetArgs(nil)
			defer rootCmd.SetOut(nil)
			if err := rootCmd.Execute(); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			for _, want := range []string{"neuron " + version + " (", "flavour " + kernels.Current().Name, "PTX sm_"} {
				if !strings.Contains(got, want) {
					t.Fatalf("output %q lacks %q", got, want)
				}
			}
		})
	}
}
