// Examples for the package documentation.

package hub_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/helexa/helexa/hub"
)

// A daemon resolving a configured model, logging download progress every
// ten seconds.
func ExampleClient_Resolve() {
	o := hub.DefaultOptions()
	o.Progress = hub.ProgressEvery(10*time.Second, func(p hub.Progress) {
		slog.Info("downloading", "file", p.File, "done", p.Done, "total", p.Total, "bytes_per_sec", int64(p.BytesPerSec))
	})
	c, err := hub.New(o)
	if err != nil {
		fmt.Println(err)
		return
	}
	path, err := c.Resolve(context.Background(), "Qwen/Qwen3-0.6B-GGUF:Q8_0")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(path)
}

func ExampleParseRef() {
	r, err := hub.ParseRef("Qwen/Qwen3-0.6B-GGUF:Q8_0@main")
	fmt.Println(r.Repo, r.Quant, r.Revision, err)
	// Output: Qwen/Qwen3-0.6B-GGUF Q8_0 main <nil>
}
