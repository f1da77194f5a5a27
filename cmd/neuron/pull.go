// This file holds `neuron pull`: it resolves a model reference (a Hugging
// Face repo file, a repo and quantization, or a local path) into the shared
// Hugging Face cache, showing a progress bar on a terminal and plain periodic
// lines otherwise, and prints the local path of the model.

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/hub"
)

func init() {
	var cacheDir, token string
	var offline bool
	cmd := &cobra.Command{
		Use:   "pull REF",
		Short: "Download a GGUF model from the Hugging Face hub into the local cache",
		Long: `Download a GGUF model into the Hugging Face cache shared with huggingface_hub and
llama.cpp, and print its local path. REF is one of:

  org/repo:QUANT             the GGUF whose name carries QUANT (e.g. Qwen/Qwen3-0.6B-GGUF:Q8_0)
  org/repo/path/file.gguf    one file of the repository
  org/repo                   the repository's only GGUF model
  PATH                       an existing local file (printed as is)

Append @REVISION (branch, tag or commit) to pin a revision. Split GGUFs
(-00001-of-0000N.gguf) are downloaded whole; the first part's path is printed.
Downloads resume after an interruption and are checked against the hub's sha256.

The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
HF_TOKEN (or --token) authenticates to gated or private repositories;
HF_HUB_OFFLINE=1 (or --offline) resolves from the cache only; HF_ENDPOINT
points at another hub.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := hub.DefaultOptions()
			if cacheDir != "" {
				o.CacheDir = cacheDir
			}
			if token != "" {
				o.Token = token
			}
			o.Offline = o.Offline || offline
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			stderr := cmd.ErrOrStderr()
			f, isFile := stderr.(*os.File)
			return runPull(ctx, cmd.OutOrStdout(), stderr, args[0], o, isFile && styled(f))
		},
	}
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "hub cache directory (default $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub)")
	cmd.Flags().BoolVar(&offline, "offline", false, "resolve from the cache only (like HF_HUB_OFFLINE=1)")
	cmd.Flags().StringVar(&token, "token", "", "Hugging Face access token (default $HF_TOKEN or the saved login token)")
	rootCmd.AddCommand(cmd)
}

// runPull resolves ref with o, reporting progress on errOut (a redrawn bar if
// terminal, plain lines otherwise), and prints the model's local path on out.
func runPull(ctx context.Context, out, errOut io.Writer, ref string, o hub.Options, terminal bool) error {
	pp := hub.NewProgressPrinter(errOut, terminal)
	o.Progress = pp.Update
	c, err := hub.New(o)
	if err != nil {
		return err
	}
	paths, err := c.ResolveFiles(ctx, ref)
	pp.Finish()
	if err != nil {
		return err
	}
	if len(paths) > 1 {
		fmt.Fprintf(errOut, "%d parts in %s\n", len(paths), filepath.Dir(paths[0]))
	}
	_, err = fmt.Fprintln(out, paths[0])
	return err
}
