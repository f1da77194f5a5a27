// This file holds eviction (Options.Evict, the daemon's evict switch, on
// by default with auto_load): when the manager refuses a load for want of
// room (engine.max_loaded_models reached, or the memory budget or the
// host's memory short) and says that unloading the idle models would make
// room (ErrEvictionHelps), the server unloads the least recently used idle
// model — nothing holding, running, queued or loading, not pinned, not the
// model being loaded — and tries again. Models with requests in flight are
// never evicted, and a load that cannot fit anyway evicts nothing: it gets
// 503 insufficient_memory naming what it needs and the limit, automatic or
// explicit (POST /models/load), while the loaded models keep serving.
// Without Evict (a server with a fixed set of models) a load beyond the
// caps keeps the manager's answer (409 too_many_models, 422
// insufficient_memory), and only a request's automatic load, if AutoLoad
// is on, is answered 503.

package server

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/helexa/helexa/api"
)

// evictableKey carries, in a load's context, the models the server would
// evict to make room for it.
type evictableKey struct{}

// Evictable returns the models the server would unload to make room for
// the load of ctx: a manager that refuses the load for want of room
// (ErrNoRoom) marks the refusal ErrEvictionHelps when unloading them would
// make it fit.
func Evictable(ctx context.Context) map[string]bool {
	v, _ := ctx.Value(evictableKey{}).(map[string]bool)
	return v
}

// loadEvicting loads req, evicting idle models, least recently used first,
// while the manager reports that doing so makes room for it
// (ErrEvictionHelps).
func (s *Server) loadEvicting(ctx context.Context, id string, req api.LoadRequest) (ModelInfo, error) {
	if !s.opts.Evict {
		return s.opts.Models.Load(ctx, req)
	}
	skip := map[string]bool{id: true}
	for {
		victims := s.evictable(skip)
		set := map[string]bool{}
		for _, v := range victims {
			set[v.id] = true
		}
		info, err := s.opts.Models.Load(context.WithValue(ctx, evictableKey{}, set), req)
		if err == nil || !errors.Is(err, ErrEvictionHelps) || ctx.Err() != nil || len(victims) == 0 {
			return info, err
		}
		v := victims[0]
		skip[v.id] = true
		if uerr := s.unloadUnused(ctx, v.id); uerr != nil {
			s.log.Debug("eviction candidate not unloaded", "model", v.id, "error", uerr.Error())
			continue
		}
		s.metrics.evictions.WithLabelValues(v.id).Inc()
		s.log.Info("model evicted", "model", v.id, "for", id, "idle_s", time.Since(v.last).Round(time.Millisecond).Seconds(),
			"reason", err.Error())
	}
}

// evictable lists the loaded models that may be evicted — idle, unpinned,
// not loading, not in skip — least recently used first.
func (s *Server) evictable(skip map[string]bool) []unusedModel {
	out := s.unused(time.Now(), skip)
	sort.Slice(out, func(i, j int) bool { return out[i].last.Before(out[j].last) })
	return out
}

// noRoom is the answer to a load that finds no room, with the manager's
// account of need and limit: 503 insufficient_memory, the loaded models
// still serving. evicted says the idle models were unloaded to no avail
// (or could not help); otherwise eviction is off.
func noRoom(err error, evicted bool) error {
	var ae *api.Error
	msg := err.Error()
	if errors.As(err, &ae) {
		msg = ae.Message
	}
	if evicted {
		return api.Unavailable(CodeInsufficientMemory, "%s; it does not fit even with the idle unpinned models unloaded, and the loaded models keep serving", msg)
	}
	return api.Unavailable(CodeInsufficientMemory, "%s; eviction is off (evict = false), so no loaded model is unloaded to make room", msg)
}
