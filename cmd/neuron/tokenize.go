// This file holds `neuron tokenize`: it prints the token ids a model's
// tokenizer gives for a text, or with --decode the text of a list of ids,
// for checking tokenization against other engines.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/tokenizer"
)

// tokenizeOptions are the flags of `neuron tokenize`.
type tokenizeOptions struct {
	model  string
	json   bool
	decode bool
}

func init() {
	var o tokenizeOptions
	cmd := &cobra.Command{
		Use:   "tokenize --model MODEL [--json] [--decode] TEXT|IDS",
		Short: "Print the token ids of a text, or the text of token ids",
		Long: `Tokenize TEXT with the tokenizer of MODEL (a .gguf file, or a Hugging Face
tokenizer.json, read with the tokenizer_config.json beside it) and print the ids
separated by spaces, or {"ids":[...]} with --json. Special tokens written in the text
(<|im_start|>) become their ids; no BOS is added. Several arguments are joined with
spaces; "-" reads the text from standard input.

With --decode the arguments are token ids, separated by commas or spaces, and the
decoded text is printed (as {"text":"..."} with --json).`,
		Example: `  neuron tokenize --model qwen3.gguf "Hello world"
  neuron tokenize --model tokenizer.json --json "<|im_start|>user"
  neuron tokenize --model qwen3.gguf --decode 9707,1879`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenize(cmd.OutOrStdout(), cmd.InOrStdin(), o, args)
		},
	}
	cmd.Flags().StringVar(&o.model, "model", "", "GGUF file or tokenizer.json (required)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	cmd.Flags().BoolVar(&o.decode, "decode", false, "decode token ids to text")
	_ = cmd.MarkFlagRequired("model")
	rootCmd.AddCommand(cmd)
}

// runTokenize loads the tokenizer of o.model and encodes (or decodes) args.
func runTokenize(out io.Writer, stdin io.Reader, o tokenizeOptions, args []string) error {
	path, err := resolveModel(context.Background(), o.model, os.Stderr)
	if err != nil {
		return err
	}
	tk, err := tokenizer.FromPath(path)
	if err != nil {
		return err
	}
	text := strings.Join(args, " ")
	if len(args) == 1 && args[0] == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return err
		}
		text = string(b)
	}
	if o.decode {
		ids, err := parseIDs(text, tk.VocabSize())
		if err != nil {
			return err
		}
		s := tk.Decode(ids)
		if o.json {
			return json.NewEncoder(out).Encode(struct {
				Text string `json:"text"`
			}{s})
		}
		_, err = fmt.Fprintln(out, s)
		return err
	}
	ids := tk.Encode(text)
	if o.json {
		if ids == nil {
			ids = []int32{}
		}
		return json.NewEncoder(out).Encode(struct {
			IDs []int32 `json:"ids"`
		}{ids})
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(int64(id), 10)
	}
	_, err = fmt.Fprintln(out, strings.Join(parts, " "))
	return err
}

// parseIDs reads token ids separated by commas and/or white space, each
// below vocabSize.
func parseIDs(s string, vocabSize int) ([]int32, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '[' || r == ']'
	})
	ids := make([]int32, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.ParseInt(f, 10, 32)
		if err != nil || n < 0 || n >= int64(vocabSize) {
			return nil, fmt.Errorf("token id %q: not an integer in [0, %d)", f, vocabSize)
		}
		ids = append(ids, int32(n))
	}
	return ids, nil
}
