// This file holds POST /v1/embeddings: the request is decoded and admitted
// like a generation (it waits its turn in the model's queue), the model's
// generator computes one L2-normalized vector per input, and the answer
// truncates them to dimensions (normalizing again) and encodes them as
// float lists or base64.

package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/helexa/helexa/api"
)

// Embedder is implemented by the generators of models that can compute
// embeddings.
type Embedder interface {
	// Embed returns one unit-length vector per input, in order. Exactly one
	// of texts and tokens is set.
	Embed(ctx context.Context, texts []string, tokens [][]int32) (*EmbedResult, error)
}

// EmbedResult is the output of Embed.
type EmbedResult struct {
	Embeddings   [][]float32
	PromptTokens int
}

// embeddings answers POST /v1/embeddings.
func (s *Server) embeddings(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	req, apiErr := api.DecodeEmbeddingRequest(body)
	if apiErr != nil {
		return apiErr
	}
	adm, err := s.admitGeneration(c, req.Model, false)
	if adm == nil {
		return err
	}
	defer adm.done()
	emb, ok := adm.gen.(Embedder)
	if !ok {
		return api.Invalid("model", "the model %q cannot compute embeddings", req.Model)
	}
	res, err := emb.Embed(adm.ctx, req.Input.Texts, req.Input.Tokens)
	if err != nil {
		return s.generationFailed(c, adm, nil, false, err)
	}
	if len(res.Embeddings) != req.Input.Len() {
		return fmt.Errorf("server: %d embeddings for %d inputs", len(res.Embeddings), req.Input.Len())
	}
	info(c).promptTokens = res.PromptTokens
	s.metrics.promptTokens.WithLabelValues(req.Model).Add(float64(res.PromptTokens))

	out := api.EmbeddingList{Object: "list", Model: req.Model, Data: make([]api.Embedding, len(res.Embeddings)),
		Usage: api.EmbeddingUsage{PromptTokens: res.PromptTokens, TotalTokens: res.PromptTokens}}
	for i, v := range res.Embeddings {
		if d := req.Dimensions; d != nil {
			if *d > len(v) {
				return api.Invalid("dimensions", "dimensions %d exceeds the model's embedding size %d", *d, len(v))
			}
			v = renormalize(v[:*d])
		}
		var vec any = v
		if req.EncodingFormat == "base64" {
			vec = base64Floats(v)
		}
		out.Data[i] = api.Embedding{Object: "embedding", Index: i, Embedding: vec}
	}
	return c.JSON(http.StatusOK, out)
}

// renormalize returns v scaled to unit L2 norm (a copy).
func renormalize(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if sum == 0 {
		return out
	}
	inv := 1 / math.Sqrt(sum)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

// base64Floats encodes v as OpenAI does for encoding_format base64: the
// little-endian float32 bytes, base64 (standard alphabet, padded).
func base64Floats(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}
