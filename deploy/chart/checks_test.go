// This file holds the chart test's checks on decoded objects.

package chart

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// neuronSet is what the other checks need of the neurons.
type neuronSet struct {
	sts      *appsv1.StatefulSet
	headless *corev1.Service
	port     int32
}

func checkNamespaces(t *testing.T, o *objects) {
	t.Helper()
	check := func(kind, name, ns string) {
		if ns != release.Namespace {
			t.Errorf("%s %s in namespace %q, want %q", kind, name, ns, release.Namespace)
		}
	}
	for n, x := range o.configMaps {
		check("ConfigMap", n, x.Namespace)
	}
	for n, x := range o.services {
		check("Service", n, x.Namespace)
	}
	for n, x := range o.statefulSets {
		check("StatefulSet", n, x.Namespace)
	}
	for n, x := range o.deployments {
		check("Deployment", n, x.Namespace)
	}
	for n, x := range o.pools {
		check("InferencePool", n, x.Namespace)
	}
}

// checkWorkloads checks what every pod template must get right: the
// selector selects the template, probes use declared ports, mounts name
// declared volumes, and ConfigMaps and Secrets referenced are rendered.
func checkWorkloads(t *testing.T, o *objects) {
	t.Helper()
	type workload struct {
		name     string
		selector map[string]string
		pod      corev1.PodTemplateSpec
		claims   []string
	}
	var all []workload
	for n, s := range o.statefulSets {
		w := workload{name: "StatefulSet " + n, selector: s.Spec.Selector.MatchLabels, pod: s.Spec.Template}
		for _, c := range s.Spec.VolumeClaimTemplates {
			w.claims = append(w.claims, c.Name)
		}
		all = append(all, w)
	}
	for n, d := range o.deployments {
		all = append(all, workload{name: "Deployment " + n, selector: d.Spec.Selector.MatchLabels, pod: d.Spec.Template})
	}
	for _, w := range all {
		if len(w.selector) == 0 || !subset(w.selector, w.pod.Labels) {
			t.Errorf("%s: selector %v does not select its pods %v", w.name, w.selector, w.pod.Labels)
		}
		volumes := map[string]bool{}
		for _, c := range w.claims {
			volumes[c] = true
		}
		for _, v := range w.pod.Spec.Volumes {
			volumes[v.Name] = true
			if v.ConfigMap != nil && o.configMaps[v.ConfigMap.Name] == nil {
				t.Errorf("%s: volume %s names ConfigMap %s, not rendered", w.name, v.Name, v.ConfigMap.Name)
			}
			if v.Secret != nil && o.secrets[v.Secret.SecretName] == nil {
				t.Errorf("%s: volume %s names Secret %s, not rendered", w.name, v.Name, v.Secret.SecretName)
			}
		}
		if sa := w.pod.Spec.ServiceAccountName; sa != "" && o.serviceAccounts[sa] == nil {
			t.Errorf("%s: service account %s not rendered", w.name, sa)
		}
		for _, c := range w.pod.Spec.Containers {
			for _, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					t.Errorf("%s/%s: mount %s has no volume", w.name, c.Name, m.Name)
				}
			}
			for _, p := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
				if p != nil && p.GRPC == nil && probePort(t, c, p) == 0 {
					t.Errorf("%s/%s: probe on an undeclared port", w.name, c.Name)
				}
			}
			for _, e := range c.Env {
				if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil {
					if s := o.secrets[r.SecretKeyRef.Name]; s != nil {
						if _, ok := s.StringData[r.SecretKeyRef.Key]; !ok {
							t.Errorf("%s/%s: env %s reads key %s that Secret %s lacks", w.name, c.Name, e.Name, r.SecretKeyRef.Key, s.Name)
						}
					}
				}
			}
		}
	}
}

// checkNeuron checks the neuron StatefulSet, its config and its headless
// Service.
func checkNeuron(t *testing.T, o *objects, routes map[string]bool, models []string) neuronSet {
	t.Helper()
	if len(o.statefulSets) != 1 {
		t.Fatalf("%d StatefulSets, want 1", len(o.statefulSets))
	}
	var n neuronSet
	for _, s := range o.statefulSets {
		n.sts = s
	}
	c := container(t, n.sts.Spec.Template.Spec, "neuron")
	n.port = namedPort(c, "http")
	if n.port != neuronPort {
		t.Errorf("neuron port http = %d, want %d", n.port, neuronPort)
	}
	toml := neuronConfig(t, o, n.sts)
	if !strings.Contains(toml, `listen = "0.0.0.0:`+strconv.Itoa(neuronPort)+`"`) {
		t.Errorf("neuron.toml does not listen on the pod's port %d:\n%s", neuronPort, toml)
	}

	// Readiness: GET /health, which is 503 while default models load and
	// while draining.
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/health" {
		t.Errorf("neuron readiness probe is not GET /health: %+v", p)
	}
	if c.LivenessProbe == nil {
		t.Error("neuron has no liveness probe")
	}
	for _, p := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
		if p == nil {
			continue
		}
		if port := probePort(t, c, p); port != neuronPort {
			t.Errorf("neuron probe on port %d, want %d", port, neuronPort)
		}
		if p.HTTPGet != nil && !routes[p.HTTPGet.Path] {
			t.Errorf("neuron probe path %s is not a neuron route", p.HTTPGet.Path)
		}
	}

	// Grace: the preStop pause, then SIGTERM and a drain of up to
	// shutdown_timeout, must end before the kubelet's SIGKILL.
	drain := tomlSeconds(t, toml, "shutdown_timeout")
	pause := preStopSeconds(t, c)
	grace := n.sts.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || *grace <= pause+drain {
		t.Errorf("terminationGracePeriodSeconds %v does not exceed preStop %ds + shutdown_timeout %ds", grace, pause, drain)
	}

	// default_models from values, in order.
	re := regexp.MustCompile(`(?m)^\[\[default_models\]\]\nmodel = "([^"]*)"`)
	var got []string
	for _, m := range re.FindAllStringSubmatch(toml, -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, ",") != strings.Join(models, ",") {
		t.Errorf("default_models %v, want %v", got, models)
	}

	// Flavour: a GPU is asked for, and GPU nodes selected, exactly on cuda.
	pod := n.sts.Spec.Template.Spec
	_, gpu := c.Resources.Limits["nvidia.com/gpu"]
	cuda := n.sts.Spec.Template.Labels["helexa.io/flavour"] == "cuda"
	if gpu != cuda || cuda != strings.Contains(toml, `device = "cuda"`) || cuda != (pod.NodeSelector["nvidia.com/gpu.present"] == "true") {
		t.Errorf("flavour %q: gpu limit %v, node selector %v, config:\n%s", n.sts.Spec.Template.Labels["helexa.io/flavour"], gpu, pod.NodeSelector, toml)
	}

	// Hub cache: a claim template or a hostPath, mounted where the config
	// points.
	cacheDir := tomlString(t, toml, "cache_dir")
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || (m.Name == "hub-cache" && m.MountPath == cacheDir)
	}
	if !mounted {
		t.Errorf("hub cache_dir %s is not the hub-cache mount", cacheDir)
	}

	// API keys: the key file the config names is the mounted Secret's.
	if strings.Contains(toml, "api_key_file") {
		keyFile := tomlString(t, toml, "api_key_file")
		ok := false
		for _, m := range c.VolumeMounts {
			ok = ok || (m.Name == "api-keys" && filepath.Join(m.MountPath, "api-keys") == keyFile)
		}
		if !ok {
			t.Errorf("api_key_file %s is not the mounted Secret", keyFile)
		}
	}

	// The headless Service governing the set selects its pods.
	n.headless = o.services[n.sts.Spec.ServiceName]
	if n.headless == nil {
		t.Fatalf("StatefulSet's service %q not rendered", n.sts.Spec.ServiceName)
	}
	if n.headless.Spec.ClusterIP != corev1.ClusterIPNone || n.headless.Spec.PublishNotReadyAddresses {
		t.Errorf("neuron Service is not headless over ready pods only")
	}
	if !subset(n.headless.Spec.Selector, n.sts.Spec.Template.Labels) {
		t.Errorf("neuron Service selector %v misses the pods %v", n.headless.Spec.Selector, n.sts.Spec.Template.Labels)
	}
	if servicePort(n.headless, "http", c) != neuronPort {
		t.Errorf("neuron Service port http does not reach %d", neuronPort)
	}
	return n
}

func checkServiceMonitors(t *testing.T, o *objects, routes map[string]bool) {
	t.Helper()
	for name, m := range o.monitors {
		var svc *corev1.Service
		for _, s := range o.services {
			if subset(m.Spec.Selector.MatchLabels, s.Labels) {
				if svc != nil {
					t.Errorf("ServiceMonitor %s selects more than one Service", name)
				}
				svc = s
			}
		}
		if svc == nil {
			t.Fatalf("ServiceMonitor %s selects no Service", name)
		}
		for _, e := range m.Spec.Endpoints {
			if !hasServicePort(svc, e.Port) || !routes[e.Path] || e.Path != "/metrics" {
				t.Errorf("ServiceMonitor %s scrapes %s%s, not a port of %s with neuron's /metrics", name, e.Port, e.Path, svc.Name)
			}
			if a := e.Authorization; a != nil {
				if s := o.secrets[a.Credentials.Name]; s != nil && s.StringData[a.Credentials.Key] == "" {
					t.Errorf("ServiceMonitor %s sends Secret key %s, which is empty", name, a.Credentials.Key)
				}
			}
		}
	}
}

// mspMetrics reads the Model Server Protocol metric names neuron serves.
func mspMetrics(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile("../../server/msp.go")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, m := range regexp.MustCompile(`(Metric\w+)\s*=\s*"([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		names[m[1]] = m[2]
	}
	return names
}

func checkPool(t *testing.T, o *objects, p *inferencePool, n neuronSet) {
	t.Helper()
	sel := p.Spec.Selector.MatchLabels
	// The pool holds exactly the StatefulSet's pods: its selector is the
	// set's, and it matches the pod template.
	if len(sel) == 0 || !subset(sel, n.sts.Spec.Template.Labels) || !equal(sel, n.sts.Spec.Selector.MatchLabels) {
		t.Errorf("InferencePool selector %v, StatefulSet selector %v, pod labels %v", sel, n.sts.Spec.Selector.MatchLabels, n.sts.Spec.Template.Labels)
	}
	if len(p.Spec.TargetPorts) != 1 || p.Spec.TargetPorts[0].Number != n.port {
		t.Errorf("InferencePool target ports %+v, want [%d]", p.Spec.TargetPorts, n.port)
	}
	ref := p.Spec.EndpointPickerRef
	if fm := ref.FailureMode; fm != "" && fm != "FailOpen" && fm != "FailClose" {
		t.Errorf("failureMode %q", fm)
	}
	svc := o.services[ref.Name]
	if svc == nil {
		t.Fatalf("endpoint picker Service %q not rendered", ref.Name)
	}
	port := int32(9002) // the API's default
	if ref.PortNumber != nil {
		port = *ref.PortNumber
	}
	var epp *appsv1.Deployment
	for _, d := range o.deployments {
		if subset(svc.Spec.Selector, d.Spec.Template.Labels) {
			epp = d
		}
	}
	if epp == nil {
		t.Fatalf("no Deployment behind endpoint picker Service %s", svc.Name)
	}
	c := container(t, epp.Spec.Template.Spec, "epp")
	found := false
	for _, sp := range svc.Spec.Ports {
		if sp.Port == port {
			found = true
			if target := resolvePort(c, sp.TargetPort); target == 0 {
				t.Errorf("endpoint picker Service port %d reaches no container port", port)
			}
		}
	}
	if !found {
		t.Errorf("endpoint picker Service has no port %d", port)
	}

	// The picker is pointed at this pool and at neuron's metric names.
	args := map[string]string{}
	for _, a := range c.Args {
		k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		args[k] = v
	}
	names := mspMetrics(t)
	for flag, want := range map[string]string{
		"pool-name":                        p.Name,
		"pool-namespace":                   p.Namespace,
		"grpc-port":                        strconv.Itoa(int(port)),
		"total-queued-requests-metric":     names["MetricQueuedRequests"],
		"total-running-requests-metric":    names["MetricRunningRequests"],
		"kv-cache-usage-percentage-metric": names["MetricKVCacheUsage"],
		"cache-info-metric":                names["MetricCacheConfigInfo"],
	} {
		if want == "" || args[flag] != want {
			t.Errorf("endpoint picker --%s=%q, want %q", flag, args[flag], want)
		}
	}
}

// checkMetricsKey checks that keyed neurons open /metrics exactly when the
// endpoint picker, which sends no key, scrapes them; the other routes keep
// their keys either way (metrics_require_key opens /metrics alone).
func checkMetricsKey(t *testing.T, o *objects, n neuronSet, pool bool) {
	t.Helper()
	toml := neuronConfig(t, o, n.sts)
	if !strings.Contains(toml, "api_key_file") {
		if strings.Contains(toml, "metrics_require_key") {
			t.Errorf("metrics_require_key set without API keys:\n%s", toml)
		}
		return
	}
	want := "metrics_require_key = " + strconv.FormatBool(!pool)
	if !regexp.MustCompile(`(?m)^` + want + `$`).MatchString(toml) {
		t.Errorf("keyed neurons (InferencePool %v) want %s:\n%s", pool, want, toml)
	}
}

func cortexDeployment(o *objects) *appsv1.Deployment {
	for _, d := range o.deployments {
		if d.Spec.Template.Labels["app.kubernetes.io/component"] == "cortex" {
			return d
		}
	}
	return nil
}

func checkCortex(t *testing.T, o *objects, n neuronSet) {
	t.Helper()
	d := cortexDeployment(o)
	c := container(t, d.Spec.Template.Spec, "cortex")
	var toml string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && o.configMaps[v.ConfigMap.Name] != nil {
			toml = o.configMaps[v.ConfigMap.Name].Data["cortex.toml"]
		}
	}
	if toml == "" {
		t.Fatal("cortex mounts no cortex.toml")
	}
	// cortex finds the neurons through the headless Service's DNS name.
	want := n.headless.Name + "." + n.headless.Namespace + ".svc.cluster.local:" + strconv.Itoa(neuronPort)
	if got := tomlString(t, toml, "neuron_dns"); got != want {
		t.Errorf("cortex neuron_dns %q, want %q", got, want)
	}
	for key, port := range map[string]string{"listen": "http", "metrics_listen": "metrics"} {
		_, p, _ := strings.Cut(tomlString(t, toml, key), ":")
		if p != strconv.Itoa(int(namedPort(c, port))) {
			t.Errorf("cortex %s %s is not container port %s", key, p, port)
		}
	}
	if p := namedPort(c, "http"); p != 31313 {
		t.Errorf("cortex port %d, want 31313", p)
	}
	drain := tomlSeconds(t, toml, "shutdown_timeout")
	if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g <= preStopSeconds(t, c)+drain {
		t.Errorf("cortex grace period %v does not exceed its preStop and shutdown_timeout %ds", g, drain)
	}
	// Probe routes: against cortex's sources where this tree has them.
	if _, err := os.Stat("../../cortex"); err != nil {
		t.Log("cortex sources absent in this tree: cortex probe routes not checked")
		return
	}
	routes := routes(t, "../../cortex", "cortex")
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || !routes[p.HTTPGet.Path] {
			t.Errorf("cortex probe %+v is not on a cortex route", p)
		}
	}
}
