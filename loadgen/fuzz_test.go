// Fuzz test of the stream reader: any response body ends in a result or an
// error kind, never a panic, and a result always has text chunks with one
// token count each, in arrival order.

package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"
)

func FuzzReadStream(f *testing.F) {
	for _, seed := range []string{
		"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n",
		"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n" +
			"data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"logprobs\":{\"content\":[{},{}]}}]}\n\n" +
			"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":1}}}\n\ndata: [DONE]\n",
		"data: {\"error\":{\"message\":\"x\",\"type\":\"server_error\",\"code\":7}}\n\n",
		": keep-alive\n\nevent: ping\ndata:{\"choices\":[{\"delta\":{\"reasoning_content\":\"r\"}}]}\ndata:[DONE]",
		"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{}]}}]}\n",
		"data: not json\n",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		res := &result{start: time.Now()}
		kind, err := readStream(context.Background(), strings.NewReader(body), res)
		if (kind == "") != (err == nil) {
			t.Fatalf("kind %q with error %v", kind, err)
		}
		if kind != "" {
			return
		}
		if len(res.chunks) == 0 || len(res.chunks) != len(res.chunkTokens) {
			t.Fatalf("%d chunks, %d counts", len(res.chunks), len(res.chunkTokens))
		}
		for i := 1; i < len(res.chunks); i++ {
			if res.chunks[i] < res.chunks[i-1] {
				t.Fatalf("chunk times out of order: %v", res.chunks)
			}
		}
		if counts, _ := tokensPerChunk(res); len(counts) != len(res.chunks) {
			t.Fatalf("token counts %v for %d chunks", counts, len(res.chunks))
		}
	})
}
