// This file holds the poller: every poll_interval it re-resolves neuron_dns
// (A/AAAA or SRV records, so a Kubernetes headless service works), then asks
// each neuron for GET /health, GET /models and, for a model it has not seen
// there before, GET /models/{id}/endpoint, and records the answers in the
// Registry. Every answer is read with a bound and checked; a neuron that
// answers with something else counts as a failed poll.

package cortex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/helexa/helexa/api"
)

// maxPollBody bounds what the poller reads of one answer: a /models list of
// a thousand models is well under 1 MiB.
const maxPollBody = 4 << 20

// errTooLarge is returned by readLimited for a body beyond its bound.
var errTooLarge = errors.New("body too large")

// poller keeps the Registry up to date.
type poller struct {
	cfg      *Config
	reg      *Registry
	client   *http.Client
	log      *slog.Logger
	resolver *net.Resolver
	// discovered is the last successful DNS answer, kept when a lookup
	// fails so that a DNS hiccup does not empty the fleet.
	discovered []string
}

// run polls at once and then every interval until ctx ends.
func (p *poller) run(ctx context.Context) {
	t := time.NewTicker(p.cfg.PollInterval)
	defer t.Stop()
	for {
		p.pollAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollAll re-resolves the fleet and polls every neuron at once.
func (p *poller) pollAll(ctx context.Context) {
	static := make([]string, 0, len(p.cfg.Neurons))
	for _, n := range p.cfg.Neurons {
		u, _ := NormalizeURL(n) // Validate checked them
		static = append(static, u)
	}
	if p.cfg.NeuronDNS != "" {
		found, err := p.resolve(ctx)
		if err != nil {
			p.log.Warn("neuron_dns lookup failed, keeping the last answer", "name", p.cfg.NeuronDNS, "error", err.Error())
		} else {
			p.discovered = found
		}
	}
	p.reg.setTargets(static, p.discovered)
	var wg sync.WaitGroup
	for _, u := range p.reg.urls() {
		wg.Go(func() { p.pollOne(ctx, u) })
	}
	wg.Wait()
}

// resolve turns neuron_dns into base URLs.
func (p *poller) resolve(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.PollTimeout)
	defer cancel()
	var hostPorts []string
	if strings.HasPrefix(p.cfg.NeuronDNS, "_") {
		_, srvs, err := p.resolver.LookupSRV(ctx, "", "", p.cfg.NeuronDNS)
		if err != nil {
			return nil, err
		}
		for _, s := range srvs {
			hostPorts = append(hostPorts, net.JoinHostPort(strings.TrimSuffix(s.Target, "."), strconv.Itoa(int(s.Port))))
		}
	} else {
		host, port, _ := net.SplitHostPort(p.cfg.NeuronDNS)
		addrs, err := p.resolver.LookupHost(ctx, host)
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			hostPorts = append(hostPorts, net.JoinHostPort(a, port))
		}
	}
	out := make([]string, 0, len(hostPorts))
	for _, hp := range hostPorts {
		out = append(out, p.cfg.NeuronScheme+"://"+hp)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// pollOne polls one neuron and records the result.
func (p *poller) pollOne(ctx context.Context, base string) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.PollTimeout)
	defer cancel()
	health, list, endpoints, err := p.fetch(ctx, base)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return // shutting down
		}
		p.log.Debug("poll failed", "neuron", base, "error", err.Error())
		p.reg.pollFailed(base, err)
		return
	}
	p.reg.pollOK(base, health, list, endpoints)
}

// fetch asks one neuron for its health, models (with its capacity, where it
// reports one) and their endpoints.
func (p *poller) fetch(ctx context.Context, base string) (string, *api.ModelsResponse, map[string]string, error) {
	health, err := p.health(ctx, base)
	if err != nil {
		return "", nil, nil, err
	}
	var list api.ModelsResponse
	status, err := p.getJSON(ctx, base+"/models", &list)
	if err != nil {
		return "", nil, nil, fmt.Errorf("GET /models: %w", err)
	}
	if status != http.StatusOK {
		return "", nil, nil, fmt.Errorf("GET /models: status %d", status)
	}
	if list.Object != "list" {
		return "", nil, nil, fmt.Errorf("GET /models: not a model list (object %q)", list.Object)
	}
	if c := list.Capacity; c != nil && (c.MemoryBudgetBytes < 0 || c.MemoryFreeBytes < 0 || c.LoadedModels < 0 || c.MaxLoadedModels < 0) {
		list.Capacity = nil // nonsense: placed as a neuron that does not report it
	}
	endpoints := map[string]string{}
	for _, m := range list.Data {
		if m.ID == "" {
			return "", nil, nil, errors.New("GET /models: a model without an id")
		}
		if m.Status != api.StatusReady {
			continue
		}
		if ep, ok := p.reg.endpoint(base, m.ID); ok {
			endpoints[m.ID] = ep
			continue
		}
		endpoints[m.ID] = p.endpoint(ctx, base, m.ID)
	}
	return health, &list, endpoints, nil
}

// health reads GET /health: "ok" with 200, the body's status or error code
// with 503 ("loading", "starting", "shutting_down").
func (p *poller) health(ctx context.Context, base string) (string, error) {
	var body struct {
		Status string     `json:"status"`
		Error  *api.Error `json:"error"`
	}
	status, err := p.getJSON(ctx, base+"/health", &body)
	if err != nil {
		return "", fmt.Errorf("GET /health: %w", err)
	}
	switch {
	case status == http.StatusOK:
		return "ok", nil
	case status != http.StatusServiceUnavailable:
		return "", fmt.Errorf("GET /health: status %d", status)
	case body.Status != "":
		return body.Status, nil
	case body.Error != nil && body.Error.Code != "":
		return body.Error.Code, nil
	}
	return "unavailable", nil
}

// endpoint asks for a model's OpenAI base URL; a neuron that cannot say, or
// says something that is not an http(s) URL, serves it at base/v1.
func (p *poller) endpoint(ctx context.Context, base, model string) string {
	var ep api.EndpointResponse
	status, err := p.getJSON(ctx, base+"/models/"+url.PathEscape(model)+"/endpoint", &ep)
	if err == nil && status == http.StatusOK {
		if u, err := NormalizeURL(ep.Endpoint); err == nil {
			return u
		}
	}
	return base + "/v1"
}

// getJSON GETs url and decodes a JSON body of any status into v (left as
// is when the body is not JSON and the status is not 200).
func (p *poller) getJSON(ctx context.Context, url string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	setUpstreamAuth(req, p.cfg.UpstreamAPIKey)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return 0, fmt.Errorf("redirected (status %d to %q); neurons must answer themselves", resp.StatusCode, resp.Header.Get("Location"))
	}
	body, err := readLimited(resp.Body, maxPollBody)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		if resp.StatusCode == http.StatusOK {
			return 0, fmt.Errorf("answer is not JSON: %w", err)
		}
	}
	return resp.StatusCode, nil
}

// readLimited reads r whole, failing with errTooLarge beyond limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w (over %d bytes)", errTooLarge, limit)
	}
	return b, nil
}

// setUpstreamAuth puts cortex's key for the neurons on req.
func setUpstreamAuth(req *http.Request, key string) {
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	} else {
		req.Header.Del("Authorization")
	}
}
