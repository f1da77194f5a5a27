// This file classifies every way a load, unload or request for a model can
// fail into the answer the client gets: the caller's fault is a 4xx with a
// specific code (a missing or forbidden file is one uniform 404, a bad file
// 422, an impossible option 400, a conflict 409), an unreachable hub or a
// deadline 503, and only what is left — our own bugs — a 500.

package manager

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/hub"
	"github.com/helexa/helexa/server"
	"github.com/helexa/helexa/tokenizer"
)

// Error codes of the manager's answers, beside package api's.
const (
	CodeModelExists        = "model_exists"
	CodeInvalidModelFile   = "invalid_model_file"
	CodeUnsupportedModel   = "unsupported_model"
	CodeInsufficientMemory = "insufficient_memory"
	CodeTooManyModels      = "too_many_models"
	CodeDeviceUnavailable  = "device_unavailable"
	CodeModelFailed        = "model_failed"
	CodeLoadTimeout        = "load_timeout"
)

// classify maps an error of a load (or unload, or lookup) of req to what
// the server sends.
func classify(err error, req api.LoadRequest) error {
	var ae *api.Error
	if errors.Is(err, server.ErrNoRoom) && errors.As(err, &ae) { // admit's refusal
		if errors.Is(err, server.ErrEvictionHelps) {
			return server.WithKind(server.ErrEvictionHelps, server.WithKind(server.ErrNoRoom, ae))
		}
		return server.WithKind(server.ErrNoRoom, ae)
	}
	if errors.As(err, &ae) {
		return ae
	}
	e := func(status int, typ, param, code string) error {
		return &api.Error{Status: status, Type: typ, Param: param, Code: code, Message: err.Error()}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return err // the client left; nothing to answer
	case errors.Is(err, context.DeadlineExceeded):
		return api.Unavailable(CodeLoadTimeout, "loading %q did not finish within the load timeout: %s", req.Model, err)

	case errors.Is(err, hub.ErrOffline):
		return server.WithKind(server.ErrModelNotFound, fmt.Errorf("model %q is not in the hub cache and the hub is offline (hub.offline or HF_HUB_OFFLINE); run `neuron pull %s` where the hub is reachable: %w", req.Model, req.Model, err))

	// What the caller named does not exist for us: one answer for missing,
	// forbidden, unreadable and not-a-file, and no file bytes in it.
	case errors.Is(err, ErrModelNotFound), errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission),
		errors.Is(err, gguf.ErrNotRegular), errors.Is(err, hub.ErrNotFound):
		if errors.Is(err, hub.ErrNotFound) && !errors.Is(err, ErrModelNotFound) {
			return server.WithKind(server.ErrModelNotFound, err) // hub words are safe and useful
		}
		return api.ModelNotFound(req.Model)
	case errors.Is(err, engine.ErrModelNotLoaded):
		return server.WithKind(server.ErrModelNotFound, err)

	case errors.Is(err, hub.ErrInvalidRef), errors.Is(err, hub.ErrAmbiguous):
		return e(http.StatusBadRequest, api.TypeInvalidRequest, "model", api.CodeInvalidValue)
	case errors.Is(err, hub.ErrUnauthorized):
		return &api.Error{Status: http.StatusBadRequest, Type: api.TypeInvalidRequest, Param: "model", Code: api.CodeInvalidValue,
			Message: fmt.Sprintf("%s (set hub.token or HF_TOKEN for gated or private repositories)", err)}

	case errors.Is(err, engine.ErrModelExists):
		return e(http.StatusConflict, api.TypeConflict, "alias", CodeModelExists)
	case errors.Is(err, engine.ErrModelBusy):
		return e(http.StatusConflict, api.TypeConflict, "model", api.CodeModelBusy)

	case errors.Is(err, engine.ErrBadLoad):
		param := "ctx_size"
		if errors.Is(err, engine.ErrDeviceUnavailable) || req.Device != "" && !api.ValidDevice(req.Device) {
			param = "device"
		}
		return e(http.StatusBadRequest, api.TypeInvalidRequest, param, api.CodeInvalidValue)
	case errors.Is(err, engine.ErrDeviceUnavailable):
		return e(http.StatusBadRequest, api.TypeInvalidRequest, "device", CodeDeviceUnavailable)
	case errors.Is(err, engine.ErrDoesNotFit):
		// Short of the host's memory now: unloading idle models may help.
		return server.WithKind(server.ErrEvictionHelps, server.WithKind(server.ErrNoRoom,
			e(http.StatusUnprocessableEntity, api.TypeInvalidRequest, "ctx_size", CodeInsufficientMemory)))

	case errors.Is(err, engine.ErrModelFailed): // loaded, then broken
		return modelFailed(err)
	case errors.Is(err, engine.ErrModelFault), errors.Is(err, gguf.ErrChanged): // during the load
		return e(http.StatusUnprocessableEntity, api.TypeInvalidRequest, "model", CodeInvalidModelFile)
	case errors.Is(err, engine.ErrUnsupportedModel), errors.Is(err, gguf.ErrUnsupported):
		return e(http.StatusUnprocessableEntity, api.TypeInvalidRequest, "model", CodeUnsupportedModel)
	case errors.Is(err, engine.ErrInvalidModel), errors.Is(err, gguf.ErrCorrupt), errors.Is(err, tokenizer.ErrInvalid):
		return e(http.StatusUnprocessableEntity, api.TypeInvalidRequest, "model", CodeInvalidModelFile)
	}
	if errors.Is(err, hub.ErrUnavailable) || errors.Is(err, hub.ErrBadResponse) || errors.Is(err, hub.ErrChecksum) || errors.Is(err, hub.ErrInsecureRedirect) {
		return server.WithKind(server.ErrUnavailable, fmt.Errorf("model %q could not be fetched: %w", req.Model, err))
	}
	return err // ours: a 500 with the error logged
}

// modelFailed is the answer for a loaded model that can no longer serve: it
// is there but broken, so other neurons may serve it (503, so gateways
// retry elsewhere).
func modelFailed(err error) error {
	return api.Unavailable(CodeModelFailed, "%s", err.Error())
}
