// This file holds `neuron template`: it renders an OpenAI chat-completions
// request body to the exact prompt text a model's chat template produces,
// for checking prompts against other engines.

package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/chat"
)

func init() {
	var model string
	cmd := &cobra.Command{
		Use:   "template --model MODEL REQUEST.json",
		Short: "Render a chat-completions request to the model's prompt text",
		Long: `Render the messages and tools of an OpenAI chat-completions request body with the
chat template of MODEL (a .gguf file, or a Hugging Face tokenizer_config.json) and
print the prompt exactly, without a trailing newline of its own. The request may set
chat_template_kwargs.enable_thinking and add_generation_prompt (default true).
REQUEST.json "-" reads the body from standard input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTemplate(cmd.OutOrStdout(), cmd.InOrStdin(), model, args[0])
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "GGUF file or tokenizer_config.json (required)")
	_ = cmd.MarkFlagRequired("model")
	rootCmd.AddCommand(cmd)
}

// runTemplate renders the request in requestPath ("-" for stdin) with the
// template of model and writes the prompt to out.
func runTemplate(out io.Writer, stdin io.Reader, model, requestPath string) error {
	path, err := resolveModel(context.Background(), model, os.Stderr)
	if err != nil {
		return err
	}
	src, err := chat.TemplateFromFile(path)
	if err != nil {
		return err
	}
	tmpl, err := chat.FromSource(src)
	if err != nil {
		return fmt.Errorf("%s: %w", model, err)
	}
	var body []byte
	if requestPath == "-" {
		body, err = io.ReadAll(stdin)
	} else {
		body, err = os.ReadFile(requestPath)
	}
	if err != nil {
		return err
	}
	req, err := chat.RequestFromJSON(body)
	if err != nil {
		return fmt.Errorf("%s: %w", requestPath, err)
	}
	prompt, err := tmpl.Render(req)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, prompt)
	return err
}
