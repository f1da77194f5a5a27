// This file holds the fleet state: every neuron with what its last poll
// said (up or down, its models and their state — not_loaded for the
// catalog models it would load on request —, in-flight, queue, KV usage,
// the OpenAI base URL of each model) and the requests cortex has running on
// it. The poller writes it, the router reads it to choose a neuron, and the
// proxy reports each request's outcome so that a neuron failing requests is
// ejected without waiting for the next poll (passive ejection).

package cortex

import (
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helexa/helexa/api"
)

// neuron is one neuron of the fleet. Fields below mu are guarded by the
// Registry's mutex.
type neuron struct {
	url string
	// outstanding counts the requests cortex has running on the neuron.
	outstanding atomic.Int64

	static    bool // listed in the configuration; DNS results come and go
	up        bool
	polled    bool   // a poll has succeeded once
	health    string // the status of the last GET /health ("ok", "loading", ...)
	fails     int    // failed polls or requests in a row
	lastPoll  time.Time
	lastError string
	models    []api.ModelEntry
	endpoints map[string]string // model id -> OpenAI base URL
	// capacity is the neuron's memory budget and free memory; nil where
	// it does not report them (older neurons).
	capacity *api.Capacity
}

// Registry is the fleet state, safe for concurrent use.
type Registry struct {
	threshold int
	metrics   *metrics
	now       func() time.Time

	mu      sync.RWMutex
	neurons map[string]*neuron
}

// newRegistry returns an empty fleet; a neuron is ejected after threshold
// failures in a row.
func newRegistry(threshold int, m *metrics) *Registry {
	return &Registry{threshold: threshold, metrics: m, now: time.Now, neurons: map[string]*neuron{}}
}

// setTargets makes the fleet the static URLs plus the discovered ones: new
// URLs are added (down until their first poll), discovered ones that are gone
// are removed.
func (r *Registry) setTargets(static, discovered []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keep := map[string]bool{}
	for _, u := range static {
		keep[u] = true
		if n, ok := r.neurons[u]; ok {
			n.static = true
		} else {
			r.neurons[u] = &neuron{url: u, static: true}
		}
	}
	for _, u := range discovered {
		keep[u] = true
		if _, ok := r.neurons[u]; !ok {
			r.neurons[u] = &neuron{url: u}
		}
	}
	for u := range r.neurons {
		if !keep[u] {
			delete(r.neurons, u)
		}
	}
	r.updateGauges()
}

// urls returns the neurons' URLs, sorted.
func (r *Registry) urls() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.neurons))
	for u := range r.neurons {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// endpoint returns the cached OpenAI base URL of model on the neuron.
func (r *Registry) endpoint(url, model string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if n, ok := r.neurons[url]; ok {
		e, ok := n.endpoints[model]
		return e, ok
	}
	return "", false
}

// pollOK records a successful poll: the neuron is up with these models and
// this capacity.
func (r *Registry) pollOK(url, health string, list *api.ModelsResponse, endpoints map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.neurons[url]
	if !ok {
		return // removed while it was polled
	}
	n.up, n.polled, n.fails, n.lastError = true, true, 0, ""
	n.health, n.models, n.endpoints, n.capacity = health, list.Data, endpoints, list.Capacity
	n.lastPoll = r.now()
	r.updateGauges()
}

// pollFailed records a failed poll.
func (r *Registry) pollFailed(url string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.neurons[url]; ok {
		n.lastPoll = r.now()
		r.failLocked(n, err)
	}
}

// requestFailed records a request that failed on the neuron before its
// response began (connect error, garbage, redirect): the passive half of
// ejection.
func (r *Registry) requestFailed(url string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.neurons[url]; ok {
		r.failLocked(n, err)
	}
}

// requestOK records a request the neuron answered, which ends a run of
// failures.
func (r *Registry) requestOK(url string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.neurons[url]; ok && n.up {
		n.fails = 0
	}
}

// failLocked counts one failure and ejects the neuron at the threshold.
func (r *Registry) failLocked(n *neuron, err error) {
	n.fails++
	n.lastError = err.Error()
	if n.up && n.fails >= r.threshold {
		n.up = false
		r.metrics.ejections.WithLabelValues(n.url).Inc()
	}
	r.updateGauges()
}

// updateGauges sets the fleet gauges; r.mu is held.
func (r *Registry) updateGauges() {
	up := 0
	models := map[string]bool{}
	for _, n := range r.neurons {
		if n.up {
			up++
			for _, m := range n.models {
				if m.Status == api.StatusReady {
					models[m.ID] = true
				}
			}
		}
	}
	r.metrics.neuronsUp.Set(float64(up))
	r.metrics.neuronsKnown.Set(float64(len(r.neurons)))
	r.metrics.modelsAvailable.Set(float64(len(models)))
}

// candidate is a neuron that can take a request for a model now.
type candidate struct {
	n        *neuron
	endpoint string // the model's OpenAI base URL on it
	queued   int    // the model's queue there at the last poll
	// rank orders the candidates before their load: 0 where the model is
	// ready; above it where the neuron would load it first (loading, then
	// not_loaded in placement order), so that concurrent first requests
	// go to the same neuron and wait on its one load.
	rank int
}

// candidates returns the up neurons on which model is ready (a neuron that
// says it is shutting down takes nothing new); when there are none, the
// serving neurons loading it, then those listing it as not_loaded (their
// catalog: a request for it loads it there); and whether any neuron of the fleet has the
// model at all (in any state, up or down, loadable included), which tells
// an unknown model (404) from an unavailable one (503).
func (r *Registry) candidates(model string) (out []candidate, known bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var later []candidate
	for _, n := range r.neurons {
		for _, m := range n.models {
			if m.ID != model {
				continue
			}
			known = true
			if !n.up || n.health == api.CodeShuttingDown {
				continue
			}
			c := candidate{n: n, endpoint: n.baseURL(model), queued: m.Queued}
			switch m.Status {
			case api.StatusReady:
				out = append(out, c)
			case api.StatusLoading:
				// A serving neuron loading it on request (not one still
				// loading its default models, which answers 503).
				if n.health == "ok" {
					c.rank = 1
					later = append(later, c)
				}
			case api.StatusNotLoaded:
				c.rank = 2
				later = append(later, c)
			}
		}
	}
	if len(out) > 0 || len(later) == 0 {
		return out, known
	}
	// The neurons with the most room first, as placement orders them.
	sort.Slice(later, func(i, j int) bool {
		a, b := later[i], later[j]
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		return roomBefore(a.n.room(), b.n.room())
	})
	for i := range later {
		later[i].rank = i + 1
	}
	return later, known
}

// baseURL returns the OpenAI base URL of model on the neuron: the one its
// endpoint answered, else that of another of its models, else url/v1.
// r.mu is held.
func (n *neuron) baseURL(model string) string {
	if ep := n.endpoints[model]; ep != "" {
		return ep
	}
	for _, ep := range n.endpoints {
		return ep
	}
	return n.url + "/v1"
}

// pick returns the candidate of lowest rank with the fewest outstanding
// requests weighted by its reported queue, ties broken at random, skipping
// the neurons in tried; ok is false when none is left.
func pick(cands []candidate, tried map[string]bool) (best candidate, ok bool) {
	var bestScore int64
	ties := 0
	for _, c := range cands {
		if tried[c.n.url] {
			continue
		}
		score := c.n.outstanding.Load() + int64(c.queued)
		switch {
		case !ok || c.rank < best.rank || c.rank == best.rank && score < bestScore:
			best, bestScore, ok, ties = c, score, true, 1
		case c.rank == best.rank && score == bestScore:
			// Reservoir sampling keeps each tied candidate with equal chance.
			ties++
			if rand.IntN(ties) == 0 {
				best = c
			}
		}
	}
	return best, ok
}

// served returns the models ready on up neurons, sorted, each with the
// neurons serving it.
func (r *Registry) served() map[string][]string { return r.byStatus(api.StatusReady) }

// loadable returns the models that up neurons list as not_loaded (in
// their catalog, loaded by the first request for them), each with those
// neurons, sorted.
func (r *Registry) loadable() map[string][]string { return r.byStatus(api.StatusNotLoaded) }

// byStatus returns the models up neurons list with status, each with those
// neurons, sorted.
func (r *Registry) byStatus(status string) map[string][]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := map[string][]string{}
	for _, n := range r.neurons {
		if !n.up {
			continue
		}
		for _, m := range n.models {
			if m.Status == status {
				out[m.ID] = append(out[m.ID], n.url)
			}
		}
	}
	for _, ns := range out {
		sort.Strings(ns)
	}
	return out
}

// servedIDs returns the ids of served(), sorted.
func (r *Registry) servedIDs() []string { return sortedIDs(r.served()) }

// sortedIDs returns the keys of a model map, sorted.
func sortedIDs(m map[string][]string) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// anyUp reports whether at least one neuron is up.
func (r *Registry) anyUp() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, n := range r.neurons {
		if n.up {
			return true
		}
	}
	return false
}
