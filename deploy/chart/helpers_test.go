// This file holds small lookups the chart checks share.

package chart

import (
	"regexp"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func subset(sub, of map[string]string) bool {
	for k, v := range sub {
		if of[k] != v {
			return false
		}
	}
	return true
}

func equal(a, b map[string]string) bool { return len(a) == len(b) && subset(a, b) }

func container(t *testing.T, pod corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range pod.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q", name)
	return corev1.Container{}
}

func namedPort(c corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// resolvePort returns the container port a named or numbered port means,
// 0 when the container declares none such.
func resolvePort(c corev1.Container, p intstr.IntOrString) int32 {
	if p.Type == intstr.String {
		return namedPort(c, p.StrVal)
	}
	for _, cp := range c.Ports {
		if cp.ContainerPort == p.IntVal {
			return cp.ContainerPort
		}
	}
	return 0
}

func probePort(t *testing.T, c corev1.Container, p *corev1.Probe) int32 {
	t.Helper()
	switch {
	case p.HTTPGet != nil:
		return resolvePort(c, p.HTTPGet.Port)
	case p.TCPSocket != nil:
		return resolvePort(c, p.TCPSocket.Port)
	}
	t.Errorf("probe %+v is neither HTTP nor TCP", p)
	return 0
}

func preStopSeconds(t *testing.T, c corev1.Container) int64 {
	t.Helper()
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Errorf("container %s has no preStop sleep", c.Name)
		return 0
	}
	return c.Lifecycle.PreStop.Sleep.Seconds
}

func hasServicePort(s *corev1.Service, name string) bool {
	for _, p := range s.Spec.Ports {
		if p.Name == name {
			return true
		}
	}
	return false
}

// servicePort returns the container port a Service port reaches.
func servicePort(s *corev1.Service, name string, c corev1.Container) int32 {
	for _, p := range s.Spec.Ports {
		if p.Name == name {
			return resolvePort(c, p.TargetPort)
		}
	}
	return 0
}

func neuronConfig(t *testing.T, o *objects, s *appsv1.StatefulSet) string {
	t.Helper()
	for _, v := range s.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && o.configMaps[v.ConfigMap.Name] != nil {
			if toml := o.configMaps[v.ConfigMap.Name].Data["neuron.toml"]; toml != "" {
				return toml
			}
		}
	}
	t.Fatal("neuron mounts no neuron.toml")
	return ""
}

func tomlString(t *testing.T, toml, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + ` = "([^"]*)"$`).FindStringSubmatch(toml)
	if m == nil {
		t.Fatalf("config has no string %s:\n%s", key, toml)
	}
	return m[1]
}

func tomlSeconds(t *testing.T, toml, key string) int64 {
	t.Helper()
	v := tomlString(t, toml, key)
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil || v[len(v)-1] != 's' {
		t.Fatalf("%s = %q is not whole seconds", key, v)
	}
	return n
}
