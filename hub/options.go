// This file holds the client's options and how their defaults come from the
// environment variables huggingface_hub and llama.cpp read, so all three
// share one cache, one token and one endpoint.

package hub

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultEndpoint is the Hugging Face hub, used unless HF_ENDPOINT says
// otherwise.
const DefaultEndpoint = "https://huggingface.co"

// Defaults for the retry policy: a download is tried up to defaultRetries+1
// times, waiting defaultRetryBackoff, then twice as long each time, at most
// maxRetryBackoff. A transfer that receives nothing for defaultStallTimeout
// is cut and retried (resuming). Progress is reported at most every
// defaultProgressInterval, often enough for a bar to look live.
const (
	defaultRetries          = 5
	defaultRetryBackoff     = time.Second
	maxRetryBackoff         = 30 * time.Second
	defaultStallTimeout     = 60 * time.Second
	defaultProgressInterval = 200 * time.Millisecond
)

// Timeouts of the default HTTP transport: connecting and keep-alive probes
// and how long an idle connection is kept are net/http's DefaultTransport
// values; the TLS handshake gets 30 s rather than its 10 s for slow links;
// waiting for a response's headers is bounded too (the hub answers within
// seconds; only the body of a large file takes long, and the stall timeout
// watches that).
const (
	dialTimeout           = 30 * time.Second
	tlsHandshakeTimeout   = 30 * time.Second
	responseHeaderTimeout = 60 * time.Second
	idleConnTimeout       = 90 * time.Second
)

// maxTokenFile bounds the token file read: a hub token is a few dozen
// bytes, so anything near this size is not one.
const maxTokenFile = 4095

// Options configures a Client. The zero value of every field but CacheDir
// means its default; DefaultOptions fills them from the environment.
type Options struct {
	// CacheDir is the hub cache root holding models--org--repo directories.
	CacheDir string
	// Token is sent as "Authorization: Bearer" to the endpoint's origin only.
	Token string
	// Endpoint is the hub's base URL; "" means DefaultEndpoint.
	Endpoint string
	// Offline resolves from the cache only, never touching the network.
	Offline bool
	// HTTPClient carries the requests; its Transport, Timeout and Jar are
	// used, its redirect policy is replaced by the client's own. nil means a
	// client with connection and header timeouts but no overall timeout.
	HTTPClient *http.Client
	// Progress, if set, is called during downloads (from the downloading
	// goroutine, at most every ProgressInterval and once when a file is done).
	Progress func(Progress)

	// Retries is how many times a failed transfer is retried; 0 means
	// the default (5), a negative value means none. Metadata and listing
	// requests are retried at most twice.
	Retries int
	// RetryBackoff is the first wait between tries, doubled each time;
	// 0 means one second.
	RetryBackoff time.Duration
	// StallTimeout cuts a transfer that receives no byte for that long;
	// 0 means one minute.
	StallTimeout time.Duration
	// ProgressInterval is the least time between Progress calls for one
	// file; 0 means 200 ms.
	ProgressInterval time.Duration
}

// Progress reports how far the download of one file has come.
type Progress struct {
	File        string  // path inside the repository
	Done        int64   // bytes on disk, resumed bytes included
	Total       int64   // file size, -1 if unknown
	BytesPerSec float64 // average rate of this transfer (resumed bytes excluded)
}

// DefaultOptions returns options from the environment, as huggingface_hub
// reads it: the cache from HF_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub; the token
// from HF_TOKEN, else the file at HF_TOKEN_PATH or $HF_HOME/token (written by
// `huggingface-cli login`); Offline from HF_HUB_OFFLINE (1, true, yes, on);
// the endpoint from HF_ENDPOINT.
func DefaultOptions() Options {
	return optionsFromEnv(os.Getenv)
}

func optionsFromEnv(getenv func(string) string) Options {
	home := getenv("HF_HOME")
	if home == "" {
		xdg := getenv("XDG_CACHE_HOME")
		if xdg == "" {
			if h, err := os.UserHomeDir(); err == nil {
				xdg = filepath.Join(h, ".cache")
			}
		}
		if xdg != "" {
			home = filepath.Join(xdg, "huggingface")
		}
	}
	var o Options
	switch {
	case getenv("HF_HUB_CACHE") != "":
		o.CacheDir = getenv("HF_HUB_CACHE")
	case getenv("HUGGINGFACE_HUB_CACHE") != "": // the older name, still read by huggingface_hub
		o.CacheDir = getenv("HUGGINGFACE_HUB_CACHE")
	case home != "":
		o.CacheDir = filepath.Join(home, "hub")
	}
	o.Token = strings.TrimSpace(getenv("HF_TOKEN"))
	if o.Token == "" {
		o.Token = strings.TrimSpace(getenv("HUGGING_FACE_HUB_TOKEN"))
	}
	if o.Token == "" {
		path := getenv("HF_TOKEN_PATH")
		if path == "" && home != "" {
			path = filepath.Join(home, "token")
		}
		if path != "" {
			if b, err := readSmall(path, maxTokenFile); err == nil {
				o.Token = strings.TrimSpace(string(b))
			}
		}
	}
	o.Offline = envTrue(getenv("HF_HUB_OFFLINE"))
	o.Endpoint = strings.TrimRight(getenv("HF_ENDPOINT"), "/")
	return o
}

// envTrue reads a boolean environment value the way huggingface_hub does.
func envTrue(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}
