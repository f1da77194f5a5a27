// This file makes a request whose target is not valid URL syntax (a
// malformed %-escape such as "/models/%zz/endpoint") get an OpenAI-style
// JSON 400 instead of net/http's plain-text "400 Bad Request", which is
// written before any handler runs. The listener's connections look at the
// first request line of each connection and, when its target does not
// parse, replace it with badTargetPath, whose handler answers the error.
// (A malformed target later on a keep-alive connection still gets the
// plain-text answer: finding request boundaries would mean parsing HTTP.)

package server

import (
	"bytes"
	"net"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/helexa/helexa/api"
)

// badTargetPath stands in for a request target that does not parse.
const badTargetPath = "/_neuron/bad-request-target"

// maxRequestLine bounds the first line looked at; longer lines pass as
// they are (net/http refuses them anyway).
const maxRequestLine = 16 << 10

// badTarget answers a request whose target did not parse.
func badTarget(echo.Context) error {
	return &api.Error{Status: http.StatusBadRequest, Type: api.TypeInvalidRequest, Code: api.CodeInvalidValue,
		Message: "the request path is not valid URL syntax (a malformed %-escape?)"}
}

// targetListener wraps a listener's connections in targetConn.
type targetListener struct{ net.Listener }

func (l targetListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &targetConn{Conn: c}, nil
}

// targetConn fixes the target of its first request line.
type targetConn struct {
	net.Conn
	checked bool
	pending []byte // the first line (fixed) and what came with it
}

func (c *targetConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if c.checked {
		return c.Conn.Read(p)
	}
	c.checked = true
	var head []byte
	buf := make([]byte, 4096)
	for bytes.IndexByte(head, '\n') < 0 && len(head) < maxRequestLine {
		n, err := c.Conn.Read(buf)
		head = append(head, buf[:n]...)
		if err != nil {
			if len(head) == 0 {
				return 0, err
			}
			break // hand over what came; the error comes again on the next read
		}
	}
	c.pending = fixTarget(head)
	return c.Read(p)
}

// fixTarget replaces the target of the request line at the start of head
// when it is not a valid request URI.
func fixTarget(head []byte) []byte {
	end := bytes.IndexByte(head, '\n')
	if end < 0 {
		return head
	}
	line := bytes.TrimRight(head[:end], "\r")
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 < 0 || sp2 <= sp1 {
		return head
	}
	target := string(line[sp1+1 : sp2])
	if target == "*" {
		return head
	}
	if _, err := url.ParseRequestURI(target); err == nil {
		return head
	}
	fixed := make([]byte, 0, len(head))
	fixed = append(fixed, line[:sp1+1]...)
	fixed = append(fixed, badTargetPath...)
	fixed = append(fixed, line[sp2:]...)
	fixed = append(fixed, head[len(line):]...)
	return fixed
}
