// Package engine runs Qwen3-family language models from GGUF files: the
// model configuration and weights, the forward pass (qwen3.go), the
// context with its paged KV cache shared by its sequences (fixed-size
// blocks mapped through a block table per sequence, kv*.go), and the
// Backend interface the devices implement (engine/cpu, engine/cuda), plus
// sampling and generation.
//
// Dimension names used throughout (shapes are written in GGUF order,
// [ne0, ne1] = [input features, output features]):
//
//	nEmbd    width of the residual stream (embedding_length)
//	nHead    query heads per layer (attention.head_count)
//	nHeadKV  key/value heads per layer (attention.head_count_kv); nHead is a multiple of it
//	headDim  width of one head (attention.key_length)
//	nFF      hidden width of the feed-forward block (feed_forward_length)
//	nVocab   rows of the token embedding and of the output matrix
//	nCtx     positions per sequence in a context's KV cache
//	bs       positions per KV cache block (ContextOptions.BlockSize)
//	nLayer   transformer blocks (block_count)
//
// Activations are row-major [n, width] float32 buffers, one row per batch
// row; a batch row is a (token, position, sequence) triple.
package engine
