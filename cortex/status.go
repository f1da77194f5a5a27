// This file holds what cortex reports about itself: the record of each
// routed request (its log line, its metrics, the recent-requests view),
// GET /cortex/status (the fleet as JSON, for `cortex status` and the
// dashboard), and the client side of that: fetching it and printing it as
// tables.

package cortex

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/helexa/helexa/api"
)

// requestRecord is one routed request, as the log line and the recent view
// report it.
type requestRecord struct {
	Time       time.Time `json:"time"`
	Path       string    `json:"path"`
	Model      string    `json:"model"`
	Neuron     string    `json:"neuron,omitempty"`
	Stream     bool      `json:"stream"`
	Status     int       `json:"status"`
	Retries    int       `json:"retries"`
	TTFBms     float64   `json:"ttfb_ms"`
	DurationMs float64   `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
}

// fail writes e to the client and records it.
func (rec *requestRecord) fail(w http.ResponseWriter, e *api.Error) {
	writeError(w, e)
	rec.Status = e.Status
	rec.Error = e.Message
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// finish counts, logs and keeps a finished request.
func (g *Gateway) finish(rec *requestRecord) {
	rec.DurationMs = ms(time.Since(rec.Time))
	g.metrics.requests.WithLabelValues(rec.Model, rec.Neuron, strconv.Itoa(rec.Status)).Inc()
	attrs := []any{"model", rec.Model, "neuron", rec.Neuron, "path", rec.Path, "status", rec.Status,
		"stream", rec.Stream, "retries", rec.Retries, "ttfb_ms", rec.TTFBms, "duration_ms", rec.DurationMs}
	if rec.Error != "" {
		attrs = append(attrs, "error", rec.Error)
	}
	g.log.Info("request", attrs...)
	g.recent.add(*rec)
}

// recentLog keeps the last requests, newest first.
type recentLog struct {
	mu   sync.Mutex
	max  int
	recs []requestRecord
}

func newRecentLog(n int) *recentLog { return &recentLog{max: n} }

func (l *recentLog) add(r requestRecord) {
	if l.max == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.recs) == l.max {
		l.recs = l.recs[:l.max-1]
	}
	l.recs = slices.Insert(l.recs, 0, r)
}

func (l *recentLog) list() []requestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]requestRecord{}, l.recs...)
}

// Status is the body of GET /cortex/status.
type Status struct {
	Time    time.Time       `json:"time"`
	Neurons []NeuronStatus  `json:"neurons"`
	Models  []ModelStatus   `json:"models"`
	Recent  []requestRecord `json:"recent"`
}

// NeuronStatus is one neuron in Status.
type NeuronStatus struct {
	URL    string `json:"url"`
	Up     bool   `json:"up"`
	Health string `json:"health,omitempty"`
	// LastPoll is the time of the last poll, successful or not.
	LastPoll  time.Time `json:"last_poll"`
	Failures  int       `json:"failures"`
	LastError string    `json:"last_error,omitempty"`
	// InFlight counts cortex's requests running on the neuron; Queued and
	// KVCacheUsage come from its last poll (queue summed over its models,
	// the highest KV usage of them).
	InFlight     int64            `json:"in_flight"`
	Queued       int              `json:"queued"`
	KVCacheUsage float64          `json:"kv_cache_usage"`
	MemoryBytes  int64            `json:"memory_bytes"`
	Models       []api.ModelEntry `json:"models"`
	// Capacity is the neuron's memory budget and free memory from its last
	// poll (memory_budget_bytes, memory_free_bytes, ...); absent where it
	// does not report them.
	*api.Capacity
}

// ModelStatus is one model in Status: the neurons that have it, those of
// them where it is ready and up, and the neurons that list it as
// not_loaded (in their catalog: a request routed there loads it).
type ModelStatus struct {
	ID       string   `json:"id"`
	Neurons  []string `json:"neurons"`
	Ready    []string `json:"ready"`
	Loadable []string `json:"loadable"`
}

// snapshot returns the fleet state.
func (g *Gateway) snapshot() Status {
	st := Status{Time: time.Now(), Neurons: []NeuronStatus{}, Models: []ModelStatus{}, Recent: g.recent.list()}
	byModel := map[string]*ModelStatus{}
	g.reg.mu.RLock()
	for _, n := range g.reg.neurons {
		ns := NeuronStatus{URL: n.url, Up: n.up, Health: n.health, LastPoll: n.lastPoll, Failures: n.fails,
			LastError: n.lastError, InFlight: n.outstanding.Load(), Models: slices.Clone(n.models)}
		if n.capacity != nil {
			c := *n.capacity
			ns.Capacity = &c
		}
		if ns.Models == nil {
			ns.Models = []api.ModelEntry{}
		}
		for _, m := range n.models {
			ns.Queued += m.Queued
			ns.KVCacheUsage = max(ns.KVCacheUsage, m.KVCacheUsage)
			ns.MemoryBytes += m.MemoryBytes
			ms, ok := byModel[m.ID]
			if !ok {
				ms = &ModelStatus{ID: m.ID, Neurons: []string{}, Ready: []string{}, Loadable: []string{}}
				byModel[m.ID] = ms
			}
			if m.Status == api.StatusNotLoaded {
				ms.Loadable = append(ms.Loadable, n.url)
				continue
			}
			ms.Neurons = append(ms.Neurons, n.url)
			if n.up && m.Status == api.StatusReady {
				ms.Ready = append(ms.Ready, n.url)
			}
		}
		st.Neurons = append(st.Neurons, ns)
	}
	g.reg.mu.RUnlock()
	sort.Slice(st.Neurons, func(i, j int) bool { return st.Neurons[i].URL < st.Neurons[j].URL })
	for _, ms := range byModel {
		sort.Strings(ms.Neurons)
		sort.Strings(ms.Ready)
		sort.Strings(ms.Loadable)
		st.Models = append(st.Models, *ms)
	}
	sort.Slice(st.Models, func(i, j int) bool { return st.Models[i].ID < st.Models[j].ID })
	return st
}

// status answers GET /cortex/status.
func (g *Gateway) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, g.snapshot())
}

// maxStatusBody bounds what FetchStatus reads.
const maxStatusBody = 32 << 20

// FetchStatus gets GET /cortex/status from the cortex at endpoint, with key
// as the bearer token when not empty.
func FetchStatus(ctx context.Context, client *http.Client, endpoint, key string) (*Status, error) {
	var st Status
	if err := Call(ctx, client, http.MethodGet, endpoint+"/cortex/status", key, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Call sends a request to a cortex and decodes its JSON answer into out; a
// non-200 answer is returned as its *api.Error.
func Call(ctx context.Context, client *http.Client, method, url, key string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := readLimited(resp.Body, maxStatusBody)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		var er api.ErrorResponse
		if json.Unmarshal(b, &er) == nil && er.Error != nil {
			er.Error.Status = resp.StatusCode
			return er.Error
		}
		return fmt.Errorf("%s %s: status %d", method, url, resp.StatusCode)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: answer is not JSON: %w", method, url, err)
	}
	return nil
}

// WriteTable prints the status as two tables, neurons and models (where
// each is ready, where else it is, and where it would load on request).
func (st *Status) WriteTable(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NEURON\tSTATE\tLAST POLL\tMODELS\tIN-FLIGHT\tQUEUE\tKV\tFREE MEMORY")
	for _, n := range st.Neurons {
		state := "down"
		if n.Up {
			state = "up"
		}
		if n.Health != "" && n.Health != "ok" {
			state += " (" + n.Health + ")"
		}
		poll := "never"
		if !n.LastPoll.IsZero() {
			poll = now.Sub(n.LastPoll).Round(100*time.Millisecond).String() + " ago"
		}
		var models []string
		for _, m := range n.Models {
			s := m.ID
			if m.Status != api.StatusReady {
				s += " (" + m.Status + ")"
			}
			models = append(models, s)
		}
		ms := strings.Join(models, ", ")
		if ms == "" {
			ms = "-"
		}
		free := "-"
		if n.Capacity != nil {
			free = gib(n.MemoryFreeBytes)
			if n.MemoryBudgetBytes > 0 {
				free += " of " + gib(n.MemoryBudgetBytes)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%.0f%%\t%s\n", n.URL, state, poll, ms, n.InFlight, n.Queued, n.KVCacheUsage*100, free)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "MODEL\tREADY ON\tALSO ON\tLOADABLE ON")
	for _, m := range st.Models {
		var others []string
		for _, n := range m.Neurons {
			if !slices.Contains(m.Ready, n) {
				others = append(others, n)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, orDash(m.Ready), orDash(others), orDash(m.Loadable))
	}
	return tw.Flush()
}

// gib formats bytes in GiB with one decimal.
func gib(n int64) string { return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30)) }

func orDash(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ", ")
}
