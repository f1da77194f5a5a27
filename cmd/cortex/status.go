// This file holds the client commands: `cortex status` (the fleet as tables
// or JSON, from GET /cortex/status) and `cortex load` / `cortex unload`
// (model placement through POST /cortex/models/load and unload). They talk
// to a running cortex at --endpoint with the key from --api-key or
// CORTEX_API_KEY.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/helexa/helexa/cortex"
)

// defaultEndpoint is where the client commands find cortex: its default
// listen address.
const defaultEndpoint = "http://" + cortex.DefaultListen

// clientFlags are the flags every client command has.
type clientFlags struct {
	endpoint, key string
	timeout       time.Duration
}

func (f *clientFlags) add(cmd *cobra.Command, timeout time.Duration) {
	cmd.Flags().StringVar(&f.endpoint, "endpoint", defaultEndpoint, "cortex base URL")
	cmd.Flags().StringVar(&f.key, "api-key", "", "API key for cortex (default $CORTEX_API_KEY)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", timeout, "how long to wait for the answer")
}

// resolve returns ctx bounded by --timeout, the endpoint without a
// trailing slash and the key.
func (f *clientFlags) resolve(ctx context.Context) (context.Context, string, string, context.CancelFunc, error) {
	ep, err := cortex.NormalizeURL(f.endpoint)
	if err != nil {
		return nil, "", "", nil, fmt.Errorf("--endpoint: %w", err)
	}
	key := f.key
	if key == "" {
		key = os.Getenv("CORTEX_API_KEY")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	return ctx, ep, key, cancel, nil
}

func init() {
	var cf clientFlags
	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the neurons and models of a running cortex",
		Long: `Show the fleet of a running cortex: a table of neurons (URL, up or down, last
poll, models, requests in flight, queue, KV-cache usage, free memory of the
neuron's budget) and one of models (the neurons serving each), or with --json
the whole GET /cortex/status answer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), cmd.OutOrStdout(), &cf, asJSON)
		},
	}
	cf.add(status, 10*time.Second)
	status.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	rootCmd.AddCommand(status)

	for _, action := range []string{"load", "unload"} {
		var pf clientFlags
		var req cortex.PlaceRequest
		short := "Load a model on a neuron of the fleet (cortex picks one unless --neuron is given)"
		if action == "unload" {
			short = "Unload a model from one neuron (--neuron) or from every neuron that has it"
		}
		cmd := &cobra.Command{
			Use:   action + " MODEL",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				req.Model = args[0]
				return runPlace(cmd.Context(), cmd.OutOrStdout(), &pf, action, req)
			},
		}
		pf.add(cmd, 30*time.Minute)
		cmd.Flags().StringVar(&req.Neuron, "neuron", "", "base URL of the neuron to use")
		if action == "load" {
			cmd.Flags().StringVar(&req.Alias, "alias", "", "id clients use for the model")
			cmd.Flags().IntVar(&req.CtxSize, "ctx-size", 0, "context size in tokens (0: the neuron's default)")
			cmd.Flags().StringVar(&req.Device, "device", "", "auto, cpu, cuda or cuda:N (empty: the neuron's default)")
		}
		rootCmd.AddCommand(cmd)
	}
}

// runStatus prints the status of the cortex at cf's endpoint.
func runStatus(ctx context.Context, w io.Writer, cf *clientFlags, asJSON bool) error {
	ctx, ep, key, cancel, err := cf.resolve(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	st, err := cortex.FetchStatus(ctx, http.DefaultClient, ep, key)
	if err != nil {
		return fmt.Errorf("status of %s: %w", ep, err)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return st.WriteTable(w, time.Now())
}

// runPlace asks the cortex to load or unload a model and prints the result.
func runPlace(ctx context.Context, w io.Writer, cf *clientFlags, action string, req cortex.PlaceRequest) error {
	ctx, ep, key, cancel, err := cf.resolve(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	var out cortex.PlaceResponse
	err = cortex.Call(ctx, http.DefaultClient, http.MethodPost, ep+"/cortex/models/"+action, key, req, &out)
	for _, r := range out.Results {
		line := fmt.Sprintf("%s: %s %s", r.Neuron, req.Model, r.Status)
		if r.Error != "" {
			line += ": " + r.Error
		}
		fmt.Fprintln(w, line)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", action, req.Model, err)
	}
	if len(out.Results) == 0 {
		return fmt.Errorf("%s %s: no neuron answered", action, req.Model)
	}
	var failed []string
	for _, r := range out.Results {
		if r.Status == "failed" {
			failed = append(failed, r.Neuron)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s %s failed on %s", action, req.Model, strings.Join(failed, ", "))
	}
	return nil
}
