// Structured outputs and forced tool calls through the official OpenAI
// Node SDK against the daemon: scripts/openai-node/check.mjs makes the
// calls (json_schema strict whole and streamed, an unsupported keyword, a
// named forced call whole and streamed, required with parallel_tool_calls
// false, the tool result round trip) and this test validates what came
// back with the independent validator. It skips where Node or the
// script's npm packages are missing (`npm ci` in scripts/openai-node).

package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helexa/helexa/internal/schematest"
)

// nodeCall is a tool call as the Node SDK returns it.
type nodeCall struct {
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// nodeMessage is an assistant message as the Node SDK returns it.
type nodeMessage struct {
	Content          *string    `json:"content"`
	ReasoningContent string     `json:"reasoning_content"`
	ToolCalls        []nodeCall `json:"tool_calls"`
}

func TestOpenAINodeSDK(t *testing.T) {
	node, dir := nodeSDK(t)
	base := startMini(t)
	stdout := runNodeScript(t, node, dir, "check.mjs", base+"/v1", "mini", weatherSchema, weatherParams)
	var out struct {
		Schema, SchemaStream struct {
			Content string `json:"content"`
			Finish  string `json:"finish"`
		}
		Unsupported struct {
			Status  int    `json:"status"`
			Message string `json:"message"`
		}
		Forced, Required struct {
			Message nodeMessage `json:"message"`
			Finish  string      `json:"finish"`
		}
		ForcedStream struct {
			Headers   int    `json:"headers"`
			Fragments int    `json:"fragments"`
			Finish    string `json:"finish"`
		}
		Final struct {
			Message           nodeMessage `json:"message"`
			Finish            string      `json:"finish"`
			PromptTokens      int         `json:"prompt_tokens"`
			AlonePromptTokens int         `json:"alone_prompt_tokens"`
		}
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("check.mjs output %s: %v", stdout, err)
	}
	var streamCalls struct {
		ForcedStream struct {
			Calls []struct {
				ID        string `json:"id"`
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"calls"`
		} `json:"forcedStream"`
	}
	json.Unmarshal(stdout, &streamCalls)

	weather, args := schematest.Compile(t, []byte(weatherSchema)), schematest.Compile(t, []byte(weatherParams))
	t.Run("json_schema", func(t *testing.T) {
		if out.Schema.Finish != "stop" || out.SchemaStream.Finish != "stop" {
			t.Fatalf("finish %q / streamed %q", out.Schema.Finish, out.SchemaStream.Finish)
		}
		schematest.Check(t, weather, out.Schema.Content)
		schematest.Check(t, weather, out.SchemaStream.Content)
		if out.Schema.Content != out.SchemaStream.Content {
			t.Fatalf("same seed streamed %q, answered %q", out.SchemaStream.Content, out.Schema.Content)
		}
	})
	t.Run("unsupported keyword", func(t *testing.T) {
		if out.Unsupported.Status != 400 || !strings.Contains(out.Unsupported.Message, `"pattern"`) {
			t.Fatalf("%+v, want a 400 naming pattern", out.Unsupported)
		}
	})
	t.Run("forced tool call", func(t *testing.T) {
		m := out.Forced.Message
		if out.Forced.Finish != "tool_calls" || len(m.ToolCalls) == 0 || (m.Content != nil && *m.Content != "") {
			t.Fatalf("finish %q, message %+v", out.Forced.Finish, m)
		}
		for _, c := range m.ToolCalls {
			if c.Function.Name != "get_weather" || !strings.HasPrefix(c.ID, "call_") {
				t.Fatalf("call %+v", c)
			}
			schematest.Check(t, args, c.Function.Arguments)
		}
		s := streamCalls.ForcedStream.Calls
		if out.ForcedStream.Finish != "tool_calls" || len(s) != len(m.ToolCalls) || out.ForcedStream.Fragments <= out.ForcedStream.Headers {
			t.Fatalf("stream: %d calls, %d headers, %d fragments, finish %q", len(s), out.ForcedStream.Headers, out.ForcedStream.Fragments, out.ForcedStream.Finish)
		}
		for i, c := range s {
			if c.Name != "get_weather" || c.Arguments != m.ToolCalls[i].Function.Arguments {
				t.Fatalf("streamed call %+v, answered %+v", c, m.ToolCalls[i])
			}
		}
	})
	t.Run("required, one call", func(t *testing.T) {
		m := out.Required.Message
		if out.Required.Finish != "tool_calls" || len(m.ToolCalls) != 1 {
			t.Fatalf("finish %q, message %+v", out.Required.Finish, m)
		}
		if c := m.ToolCalls[0]; c.Function.Name == "get_weather" {
			schematest.Check(t, args, c.Function.Arguments)
		} else if c.Function.Name == "get_time" {
			schematest.Check(t, schematest.Compile(t, []byte(timeParams)), c.Function.Arguments)
		} else {
			t.Fatalf("call %+v", c)
		}
	})
	t.Run("tool result, final answer", func(t *testing.T) {
		m := out.Final.Message
		answer := m.ReasoningContent
		if m.Content != nil {
			answer += *m.Content
		}
		if len(m.ToolCalls) != 0 || answer == "" || out.Final.PromptTokens <= out.Final.AlonePromptTokens+20 {
			t.Fatalf("final %+v, prompt %d tokens (%d without the call and result)", out.Final, out.Final.PromptTokens, out.Final.AlonePromptTokens)
		}
	})
}

// nodeSDK returns the node binary and the scripts/openai-node directory,
// skipping the test where Node or the OpenAI Node SDK (npm ci in
// scripts/openai-node; .ci/run does it) is missing.
func nodeSDK(t *testing.T) (node, dir string) {
	t.Helper()
	dir, err := filepath.Abs("../../scripts/openai-node")
	if err != nil {
		t.Fatal(err)
	}
	node, err = exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the Node SDK check needs Node 20+")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai", "package.json")); err != nil {
		t.Skipf("the OpenAI Node SDK is not installed: run npm ci in %s", dir)
	}
	return node, dir
}

// runNodeScript runs script in scripts/openai-node with args and returns
// its standard output.
func runNodeScript(t *testing.T, node, dir, script string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	return stdout
}
