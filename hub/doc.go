// Package hub resolves model references to local GGUF files, downloading them
// from the Hugging Face hub into the standard Hugging Face cache when needed.
//
// A reference is a local path, "org/repo/path/file.gguf", "org/repo:QUANT"
// (the GGUF whose name carries the quantization, e.g.
// "Qwen/Qwen3-0.6B-GGUF:Q8_0") or "org/repo" (its only GGUF model), each
// optionally followed by "@revision". Split GGUFs are fetched whole.
//
// The cache is the one huggingface_hub and llama.cpp use
// (models--org--repo/{blobs,snapshots,refs}), so a model downloaded by any of
// them is found by the others. Downloads resume after a cut connection, are
// retried with backoff and are verified against the hub's sha256 before they
// appear in the cache. The environment variables huggingface_hub reads
// (HF_HUB_CACHE, HF_HOME, HF_TOKEN, HF_HUB_OFFLINE, HF_ENDPOINT) set the
// defaults; see DefaultOptions.
//
// Typical use:
//
//	c, err := hub.New(hub.DefaultOptions())
//	...
//	path, err := c.Resolve(ctx, "Qwen/Qwen3-0.6B-GGUF:Q8_0")
package hub
