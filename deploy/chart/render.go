// Package chart renders helexa's Helm chart (deploy/helm/helexa) with the
// Helm Go SDK, the way `helm template` does, without a cluster: it is what
// writes the plain manifests under deploy/k8s and what the chart tests read.
// It lives in its own module so the daemon's dependencies stay as they are.
package chart

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
)

// Release names the release a render is for.
type Release struct {
	Name      string
	Namespace string
}

// Render renders the chart in dir with the chart's values overridden by
// each values file in turn (as `helm template -f a -f b`) and returns the
// manifest: every non-empty document, in template-file order, each headed
// by a "# Source:" comment naming its template.
func Render(dir string, rel Release, valuesFiles ...string) ([]byte, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("chart: load %s: %w", dir, err)
	}
	vals := map[string]any{}
	for _, f := range valuesFiles {
		v, err := common.ReadValuesFile(f)
		if err != nil {
			return nil, fmt.Errorf("chart: values %s: %w", f, err)
		}
		vals = mergeValues(vals, v)
	}
	opts := common.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: 1, IsInstall: true}
	top, err := util.ToRenderValues(ch, vals, opts, common.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("chart: values: %w", err)
	}
	files, err := engine.Render(ch, top)
	if err != nil {
		return nil, fmt.Errorf("chart: render: %w", err)
	}
	var out bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !strings.HasSuffix(name, ".yaml") {
			continue // _helpers.tpl, NOTES.txt
		}
		for _, doc := range splitDocuments(files[name]) {
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, doc)
		}
	}
	return out.Bytes(), nil
}

// splitDocuments splits a rendered template into its YAML documents,
// leaving out those with nothing but comments and blank lines.
func splitDocuments(s string) []string {
	var docs []string
	for _, d := range strings.Split("\n"+s, "\n---") {
		d = strings.Trim(d, "\n")
		if hasContent(d) {
			docs = append(docs, d)
		}
	}
	return docs
}

// hasContent reports whether a YAML document holds more than comments.
func hasContent(doc string) bool {
	for _, l := range strings.Split(doc, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			return true
		}
	}
	return false
}

// Documents splits a manifest written by Render into its documents.
func Documents(manifest []byte) []string {
	return splitDocuments(string(manifest))
}

// mergeValues merges src into dst as Helm merges values files: maps merge
// key by key, anything else in src replaces what dst holds.
func mergeValues(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if vm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeValues(dm, vm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}
