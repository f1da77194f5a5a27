// This file holds the idle side of the model lifecycle: every loaded model
// records its last use and how long it may stay idle (the request's
// keep_alive, else Options.KeepAlive); a reaper unloads a model once that
// time has passed with no request running or queued for it. Default models
// are pinned and never unloaded for idleness. GET /models shows each
// model's last use, idle deadline and pin.
//
// A request holds its model from the moment it names it until it is in the
// model's queue (hold): the reaper and eviction unload only a model that
// nothing holds, runs or queues on, checked and closed in one step under
// the server's lock (unloadUnused), so a request that has resolved its
// model is never refused because an idle unload came between. A request
// that finds its model being unloaded with AutoLoad waits for the unload
// to end and loads it again.

package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/helexa/helexa/api"
)

// reapInterval is how often the reaper looks for idle models.
const reapInterval = 100 * time.Millisecond

// modelUse is a loaded model's use as the idle reaper sees it.
type modelUse struct {
	last time.Time
	// keepAlive is the idle time allowed after last; negative: for ever.
	keepAlive time.Duration
	pinned    bool
}

// defaultKeepAlive is the keep-alive of a model no request set one for.
func (s *Server) defaultKeepAlive() time.Duration {
	if s.opts.KeepAlive == nil {
		return -1
	}
	return *s.opts.KeepAlive
}

// usageOf returns a model's usage record, creating it as last used at
// since; s.mu must be held.
func (s *Server) usageOf(id string, since time.Time) *modelUse {
	u := s.usage[id]
	if u == nil {
		u = &modelUse{last: since, keepAlive: s.defaultKeepAlive()}
		s.usage[id] = u
	}
	return u
}

// touch records a use of a model now. At the end of a request (ended),
// the request's keep_alive, else the default, becomes the model's idle
// time, as in ollama.
func (s *Server) touch(id string, ka *api.KeepAlive, ended bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.usageOf(id, now)
	u.last = now
	switch {
	case !ended:
	case ka != nil:
		u.keepAlive = time.Duration(*ka)
	default:
		u.keepAlive = s.defaultKeepAlive()
	}
}

// pin exempts a model from idle unloading and eviction.
func (s *Server) pin(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usageOf(id, time.Now()).pinned = true
}

// forgetUsage drops an unloaded model's record.
func (s *Server) forgetUsage(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.usage, id)
}

// usageEntry fills GET /models' last use, idle deadline and pin of a
// loaded model.
func (s *Server) usageEntry(m ModelInfo, e *api.ModelEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	since := m.LoadedAt
	if since.IsZero() {
		since = time.Now()
	}
	u := s.usageOf(m.ID, since)
	last := u.last
	e.LastUsed = &last
	e.Pinned = u.pinned
	if !u.pinned && u.keepAlive >= 0 {
		d := u.last.Add(u.keepAlive)
		e.IdleDeadline = &d
	}
}

// reapIdle unloads idle models until ctx ends or the server drains.
func (s *Server) reapIdle(ctx context.Context) {
	t := time.NewTicker(reapInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.State() == StateDraining {
			return
		}
		for _, id := range s.idleModels(time.Now()) {
			s.unloadIdle(ctx, id)
		}
	}
}

// idleModels lists the loaded models past their idle deadline with nothing
// running, queued or loading.
func (s *Server) idleModels(now time.Time) []string {
	var out []string
	for _, u := range s.unused(now, nil) {
		if u.keepAlive >= 0 && !now.Before(u.last.Add(u.keepAlive)) {
			out = append(out, u.id)
		}
	}
	return out
}

// unusedModel is a loaded model that may be unloaded, with its usage.
type unusedModel struct {
	id        string
	last      time.Time
	keepAlive time.Duration
}

// unused lists the loaded models, other than those in skip, that are
// unpinned and that nothing holds, runs, queues on or loads: the ones
// keep_alive and eviction may unload. A model without a usage record
// counts as used at its load (or now).
func (s *Server) unused(now time.Time, skip map[string]bool) []unusedModel {
	var out []unusedModel
	for _, m := range s.opts.Models.List() {
		if skip[m.ID] {
			continue
		}
		if running, waiting, closing := s.gateCounts(m.ID); running+waiting > 0 || closing {
			continue
		}
		since := m.LoadedAt
		if since.IsZero() {
			since = now
		}
		s.mu.Lock()
		u := s.usageOf(m.ID, since)
		_, loading := s.loads[m.ID]
		um := unusedModel{id: m.ID, last: u.last, keepAlive: u.keepAlive}
		pinned, held := u.pinned, s.holds[m.ID] > 0
		s.mu.Unlock()
		if !pinned && !loading && !held {
			out = append(out, um)
		}
	}
	return out
}

// unloadIdle unloads an idle model, unless a request came meanwhile.
func (s *Server) unloadIdle(ctx context.Context, id string) {
	s.mu.Lock()
	u := s.usageOf(id, time.Now())
	idleFor := time.Since(u.last)
	s.mu.Unlock()
	if err := s.unloadUnused(ctx, id); err != nil {
		s.log.Debug("idle model not unloaded", "model", id, "error", err.Error())
		return
	}
	s.metrics.idleUnloads.WithLabelValues(id).Inc()
	s.log.Info("idle model unloaded", "model", id, "idle_s", idleFor.Round(time.Millisecond).Seconds())
}

// hold marks a request as resolving model id until the returned release is
// called (once it is in the model's queue, or has failed): the model is
// not unloaded for idleness or evicted meanwhile. With AutoLoad, a model
// whose unload is under way is waited for first, so that the request then
// loads it again; hold fails only when ctx ends.
func (s *Server) hold(ctx context.Context, id string) (release func(), err error) {
	for {
		s.mu.Lock()
		g := s.gates[id]
		if g == nil || !s.opts.AutoLoad || !g.isClosing() {
			s.holds[id]++
			s.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					s.mu.Lock()
					defer s.mu.Unlock()
					if s.holds[id]--; s.holds[id] <= 0 {
						delete(s.holds, id)
					}
				})
			}, nil
		}
		s.mu.Unlock()
		s.log.Debug("request waits for its model's unload to end, to load it again", "model", id)
		if err := g.settled(ctx); err != nil {
			return nil, err
		}
	}
}

// unloadUnused unloads a model that nothing holds, runs or queues on, for
// idleness or eviction. The check and the closing of its gate happen under
// the server's lock, which hold takes too: a request holds the model
// before the check or finds its gate closing after it, never in between.
// A model in use is left loaded with an error wrapping ErrBusy.
func (s *Server) unloadUnused(ctx context.Context, id string) error {
	if _, ok := s.find(id); !ok {
		return fmt.Errorf("%w: %q is not loaded", ErrModelNotFound, id)
	}
	g := s.gate(id)
	s.mu.Lock()
	closed := s.holds[id] == 0 && s.gates[id] == g && g.tryClose()
	s.mu.Unlock()
	if !closed {
		return fmt.Errorf("%w: %q is in use", ErrBusy, id)
	}
	return s.unloadClosed(ctx, id, g)
}
