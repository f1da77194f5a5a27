// Fuzz test of the SSE relay: any upstream bytes, split into reads anywhere.

package cortex

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
)

// piecesReader returns data in pieces of the given sizes, then the rest.
type piecesReader struct {
	data  []byte
	sizes []byte
}

func (r *piecesReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.sizes) > 0 {
		n = min(n, int(r.sizes[0])+1)
		r.sizes = r.sizes[1:]
	}
	n = copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// FuzzRelayStream checks the SSE relay on any upstream bytes, split into
// reads anywhere: the client gets exactly the complete events of the input,
// byte for byte, and when the input does not end with [DONE] (or an error
// event of its own) one error event and [DONE] after them.
func FuzzRelayStream(f *testing.F) {
	f.Add([]byte("data: {\"a\":1}\n\ndata: [DONE]\n\n"), []byte{3, 0, 7})
	f.Add([]byte("data: {\"a\":1}\n\ndata: {\"b\""), []byte{})
	f.Add([]byte("data: x\r\n\r\ndata: [DONE]\r\n\r\n"), []byte{1, 1, 1, 1})
	f.Add([]byte(": comment\n\ndata: {\"error\":{\"message\":\"boom\"}}\n\n"), []byte{5})
	f.Add([]byte("\n\n\n\ndata: [DONE]\n\ntrailing"), []byte{2, 9})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		if len(data) > 1<<16 {
			return
		}
		rec := httptest.NewRecorder()
		_, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		rl := &relay{w: rec, rc: http.NewResponseController(rec), body: &piecesReader{data: data, sizes: sizes},
			idle: time.Minute, cancel: cancel, firstByte: func() {}}
		err := rl.stream()
		if err != nil {
			rl.fail(api.ServerError("broken"))
		}
		out := rec.Body.Bytes()
		complete := data[:lastEventEnd(data)]
		if !bytes.HasPrefix(out, complete) {
			t.Fatalf("the client did not get the complete events byte for byte:\nin  %q\nout %q", data, out)
		}
		rest := string(out[len(complete):])
		switch {
		case err != nil:
			if !strings.HasPrefix(rest, `data: {"error":`) || !strings.HasSuffix(rest, "\n\ndata: [DONE]\n\n") || strings.Count(rest, "\n\n") != 2 {
				t.Fatalf("after a broken stream the client got %q, want one error event and [DONE]", rest)
			}
		case rest != "" && rest != "data: [DONE]\n\n":
			t.Fatalf("a finished stream got extra bytes %q", rest)
		}
	})
}
