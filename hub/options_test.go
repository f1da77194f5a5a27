// Tests of the defaults read from the environment.

package hub

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOptionsFromEnv(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory:", err)
	}
	tokenDir := t.TempDir()
	os.WriteFile(filepath.Join(tokenDir, "token"), []byte("hf_fromfile\n"), 0o600)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Options
	}{
		{"defaults", map[string]string{"HF_HOME": ""},
			Options{CacheDir: filepath.Join(home, ".cache", "huggingface", "hub")}},
		{"xdg", map[string]string{"XDG_CACHE_HOME": "/x"},
			Options{CacheDir: "/x/huggingface/hub"}},
		{"hf home with token file", map[string]string{"HF_HOME": tokenDir},
			Options{CacheDir: filepath.Join(tokenDir, "hub"), Token: "hf_fromfile"}},
		{"hub cache wins", map[string]string{"HF_HOME": "/h", "HF_HUB_CACHE": "/c", "HUGGINGFACE_HUB_CACHE": "/old"},
			Options{CacheDir: "/c"}},
		{"legacy cache name", map[string]string{"HF_HOME": "/h", "HUGGINGFACE_HUB_CACHE": "/old"},
			Options{CacheDir: "/old"}},
		{"token env wins over file", map[string]string{"HF_HOME": tokenDir, "HF_TOKEN": " hf_env "},
			Options{CacheDir: filepath.Join(tokenDir, "hub"), Token: "hf_env"}},
		{"token path", map[string]string{"HF_HOME": "/h", "HF_TOKEN_PATH": filepath.Join(tokenDir, "token")},
			Options{CacheDir: "/h/hub", Token: "hf_fromfile"}},
		{"offline and endpoint", map[string]string{"HF_HOME": "/h", "HF_HUB_OFFLINE": "yes", "HF_ENDPOINT": "https://mirror.example/"},
			Options{CacheDir: "/h/hub", Offline: true, Endpoint: "https://mirror.example"}},
		{"offline false", map[string]string{"HF_HOME": "/h", "HF_HUB_OFFLINE": "0"},
			Options{CacheDir: "/h/hub"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := optionsFromEnv(func(k string) string { return tc.env[k] })
			if got.CacheDir != tc.want.CacheDir || got.Token != tc.want.Token || got.Offline != tc.want.Offline || got.Endpoint != tc.want.Endpoint {
				t.Errorf("got cache %q token %q offline %v endpoint %q; want %q %q %v %q",
					got.CacheDir, got.Token, got.Offline, got.Endpoint,
					tc.want.CacheDir, tc.want.Token, tc.want.Offline, tc.want.Endpoint)
			}
		})
	}
}

func TestDefaultOptionsReadsEnvironment(t *testing.T) {
	t.Setenv("HF_HUB_CACHE", "/srv/cache")
	t.Setenv("HF_TOKEN", "hf_x")
	t.Setenv("HF_HUB_OFFLINE", "1")
	o := DefaultOptions()
	if o.CacheDir != "/srv/cache" || o.Token != "hf_x" || !o.Offline {
		t.Errorf("DefaultOptions = %+v", o)
	}
}
