// Package browsertest starts a real headless Chromium for the tests of web
// pages (the neuron chat page) and drives it with chromedp. A test on a
// machine without Chromium is skipped with a message that says so; CI
// installs Debian's chromium package (.ci/run).
//
// It is imported by tests only.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvPath names a browser binary to use instead of searching PATH.
const EnvPath = "HELEXA_CHROMIUM"

// candidates are the browser names searched on PATH, Debian's first.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the path of a Chromium-family browser, or "" when none is
// installed.
func Find() string {
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a headless browser with a window of width x height CSS pixels
// and returns a chromedp context for one tab; it ends with the test or after
// timeout. Without a browser the test is skipped.
func New(t testing.TB, width, height int, timeout time.Duration) context.Context {
	t.Helper()
	path := Find()
	if path == "" {
		t.Skipf("skipping: no chromium installed (apt-get install chromium, or set %s)", EnvPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("browsertest: starting %s: %v", path, err)
	}
	return ctx
}

// Screenshot saves a PNG of the whole viewport as name in the test's temp
// directory and returns its path. HELEXA_SCREENSHOT_DIR, when set, receives
// a copy (to look at a page after the test is gone).
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("browsertest: screenshot: %v", err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("HELEXA_SCREENSHOT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Errorf("browsertest: copying the screenshot: %v", err)
		}
	}
	t.Logf("screenshot: %s", p)
	return p
}
