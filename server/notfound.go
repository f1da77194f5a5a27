// This file holds the 404 for a model that is not loaded: it names the
// models that are, so that a client with a typo sees the right name.

package server

import (
	"sort"

	"github.com/helexa/helexa/api"
)

// modelNotFound returns the 404 for id, listing the loaded models.
func (s *Server) modelNotFound(id string) *api.Error {
	var ids []string
	for _, m := range s.opts.Models.List() {
		ids = append(ids, m.ID)
	}
	sort.Strings(ids)
	return api.ModelNotLoaded(id, ids)
}
