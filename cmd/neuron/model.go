// This file resolves the MODEL argument of the one-shot commands (run,
// bench, logits, tokenize, template): a local file as it is, or a Hugging
// Face hub reference (org/repo:QUANT, org/repo/file.gguf[@revision]) from
// the local cache, downloaded first with progress on stderr. The daemon
// resolves its models the same way through the same hub client.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/helexa/helexa/hub"
)

// resolveModel returns the local file a model reference names. A path that
// exists (a file, or the folder of a tokenizer.json) is returned as it is; anything else goes to the hub client
// (HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE and HF_ENDPOINT apply),
// which reports download progress to progress (a bar when it is a terminal).
func resolveModel(ctx context.Context, ref string, progress *os.File) (string, error) {
	if _, err := os.Stat(ref); err == nil {
		return ref, nil
	}
	o := hub.DefaultOptions()
	var w io.Writer = io.Discard
	terminal := false
	if progress != nil {
		w, terminal = progress, styled(progress)
	}
	pp := hub.NewProgressPrinter(w, terminal)
	o.Progress = pp.Update
	c, err := hub.New(o)
	if err != nil {
		return "", fmt.Errorf("model %q: %w", ref, err)
	}
	path, err := c.Resolve(ctx, ref)
	pp.Finish()
	if err != nil {
		return "", fmt.Errorf("model %q: %w", ref, err)
	}
	return path, nil
}
