// This file holds the OpenAI error body, {"error":{"message","type","param",
// "code"}}, and constructors for the errors neuron returns.

package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Error types. invalid_request_error and server_error are OpenAI's; the
// other two are neuron's own, for a server or model that cannot serve now
// (503) and a model in use (409).
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeServer         = "server_error"
	TypeUnavailable    = "service_unavailable_error"
	TypeConflict       = "conflict_error"
)

// Error codes neuron sets in the error body's code field.
const (
	CodeModelNotFound         = "model_not_found"
	CodeContextLengthExceeded = "context_length_exceeded"
	CodeInvalidAPIKey         = "invalid_api_key"
	CodeQueueFull             = "queue_full"
	CodeStarting              = "starting"
	CodeShuttingDown          = "shutting_down"
	CodeModelUnloading        = "model_unloading"
	CodeUnavailable           = "unavailable"
	CodeModelBusy             = "model_busy"
	CodeRequestTooLarge       = "request_too_large"
	CodeInvalidValue          = "invalid_value"
	CodeUnsupported           = "unsupported_value"
)

// Error is the object inside an OpenAI error body. Status is the HTTP status
// it is sent with and is not part of the JSON. NPromptTokens and NCtx are set
// for context_length_exceeded (the fields llama.cpp's server adds).
type Error struct {
	Status        int    `json:"-"`
	Message       string `json:"message"`
	Type          string `json:"type"`
	Param         string `json:"param"`
	Code          string `json:"code"`
	NPromptTokens int    `json:"n_prompt_tokens,omitempty"`
	NCtx          int    `json:"n_ctx,omitempty"`
}

// ErrorResponse is the body of every error response.
type ErrorResponse struct {
	Error *Error `json:"error"`
}

// Error returns the message, so that *Error can travel as a Go error.
func (e *Error) Error() string { return e.Message }

// MarshalJSON writes param and code as null when they are empty, as OpenAI does.
func (e Error) MarshalJSON() ([]byte, error) {
	type wire struct {
		Message       string  `json:"message"`
		Type          string  `json:"type"`
		Param         *string `json:"param"`
		Code          *string `json:"code"`
		NPromptTokens int     `json:"n_prompt_tokens,omitempty"`
		NCtx          int     `json:"n_ctx,omitempty"`
	}
	w := wire{Message: e.Message, Type: e.Type, NPromptTokens: e.NPromptTokens, NCtx: e.NCtx}
	if e.Param != "" {
		w.Param = &e.Param
	}
	if e.Code != "" {
		w.Code = &e.Code
	}
	return json.Marshal(w)
}

// UnmarshalJSON accepts null for param and code, and a number for code (some
// servers send the HTTP status there).
func (e *Error) UnmarshalJSON(b []byte) error {
	var w struct {
		Message       string          `json:"message"`
		Type          string          `json:"type"`
		Param         *string         `json:"param"`
		Code          json.RawMessage `json:"code"`
		NPromptTokens int             `json:"n_prompt_tokens"`
		NCtx          int             `json:"n_ctx"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = Error{Message: w.Message, Type: w.Type, NPromptTokens: w.NPromptTokens, NCtx: w.NCtx}
	if w.Param != nil {
		e.Param = *w.Param
	}
	if len(w.Code) > 0 && string(w.Code) != "null" {
		var s string
		if json.Unmarshal(w.Code, &s) == nil {
			e.Code = s
		} else {
			e.Code = string(w.Code)
		}
	}
	return nil
}

// Invalid returns a 400 invalid_request_error about param.
func Invalid(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Param: param,
		Code: CodeInvalidValue, Message: fmt.Sprintf(format, args...)}
}

// Unsupported returns a 400 invalid_request_error for a value neuron does not
// support yet.
func Unsupported(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Param: param,
		Code: CodeUnsupported, Message: fmt.Sprintf(format, args...)}
}

// ModelNotFound returns the 404 for a model that is not loaded.
func ModelNotFound(model string) *Error {
	return &Error{Status: http.StatusNotFound, Type: TypeInvalidRequest, Param: "model",
		Code:    CodeModelNotFound,
		Message: fmt.Sprintf("the model %q does not exist or is not loaded", model)}
}

// ModelNotLoaded returns the 404 for a model that is not loaded, naming the
// models that are: `the model "x" is not loaded; loaded: a, b`.
func ModelNotLoaded(model string, loaded []string) *Error {
	e := ModelNotFound(model)
	if len(loaded) == 0 {
		e.Message = fmt.Sprintf("the model %q is not loaded; no model is loaded", model)
	} else {
		e.Message = fmt.Sprintf("the model %q is not loaded; loaded: %s", model, strings.Join(loaded, ", "))
	}
	return e
}

// ContextLengthExceeded returns the 400 for a prompt plus max_tokens that do
// not fit the model's context.
func ContextLengthExceeded(promptTokens, requested, nCtx int) *Error {
	msg := fmt.Sprintf("this model's maximum context length is %d tokens, but the request needs %d (%d in the prompt",
		nCtx, promptTokens+requested, promptTokens)
	if requested > 0 {
		msg += fmt.Sprintf(", %d for the completion)", requested)
	} else {
		msg += ")"
	}
	return &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Param: "messages",
		Code: CodeContextLengthExceeded, Message: msg, NPromptTokens: promptTokens, NCtx: nCtx}
}

// Unavailable returns a 503 with the given code (queue_full, shutting_down, ...).
func Unavailable(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Type: TypeUnavailable, Code: code,
		Message: fmt.Sprintf(format, args...)}
}

// ServerError returns a 500 server_error.
func ServerError(format string, args ...any) *Error {
	return &Error{Status: http.StatusInternalServerError, Type: TypeServer, Message: fmt.Sprintf(format, args...)}
}
