// This file resolves the MODEL argument of the one-shot commands (run,
// bench, logits, tokenize, template): a local file as it is, or a Hugging
// Face hub reference (org/repo:QUANT, org/repo/file.gguf[@revision]) from
// the local cache, downloaded first with progress on stderr. The daemon
// resolves its models the same way through the same hub client.
package main

import (
	"context"
	"io"
	"os"

	"github.com/helexa/helexa/hub"
	"github.com/helexa/helexa/manager"
)

// resolveModel returns the local file a model reference names, through the
// model manager's resolver with any local path allowed: a path that exists
// (a file, or the folder of a tokenizer.json) as it is, anything else
// through the hub client (HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE
// and HF_ENDPOINT apply), which reports download progress to progress (a
// bar when it is a terminal).
func resolveModel(ctx context.Context, ref string, progress *os.File) (string, error) {
	o := hub.DefaultOptions()
	var w io.Writer = io.Discard
	terminal := false
	if progress != nil {
		w, terminal = progress, styled(progress)
	}
	pp := hub.NewProgressPrinter(w, terminal)
	o.Progress = pp.Update
	path, err := manager.NewResolver(o, []string{manager.AnyDir}).Resolve(ctx, ref)
	pp.Finish()
	return path, err
}
