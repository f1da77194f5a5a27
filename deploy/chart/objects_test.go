// This file decodes rendered manifests strictly: every document into its
// Kubernetes API type, or for custom resources (InferencePool,
// ServiceMonitor) into a local struct holding only the fields the chart may
// set, so a misspelt or misplaced field is an error, not a silent no-op.

package chart

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// inferencePool is inference.networking.k8s.io/v1 InferencePool, the spec
// fields of the API (api/v1/inferencepool_types.go upstream).
type inferencePool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		TargetPorts []struct {
			Number int32 `json:"number"`
		} `json:"targetPorts"`
		EndpointPickerRef struct {
			Group       *string `json:"group,omitempty"`
			Kind        string  `json:"kind,omitempty"`
			Name        string  `json:"name"`
			PortNumber  *int32  `json:"portNumber,omitempty"`
			FailureMode string  `json:"failureMode,omitempty"`
		} `json:"endpointPickerRef"`
	} `json:"spec"`
}

// serviceMonitor is monitoring.coreos.com/v1 ServiceMonitor, the fields the
// chart uses.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			Authorization *struct {
				Type        string                   `json:"type"`
				Credentials corev1.SecretKeySelector `json:"credentials"`
			} `json:"authorization,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// objects holds a render's decoded objects by kind and name.
type objects struct {
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	services        map[string]*corev1.Service
	serviceAccounts map[string]*corev1.ServiceAccount
	statefulSets    map[string]*appsv1.StatefulSet
	deployments     map[string]*appsv1.Deployment
	roles           map[string]*rbacv1.Role
	roleBindings    map[string]*rbacv1.RoleBinding
	pools           map[string]*inferencePool
	monitors        map[string]*serviceMonitor
}

// decodeAll decodes every document of a manifest strictly.
func decodeAll(docs []string) (*objects, error) {
	o := &objects{
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		services: map[string]*corev1.Service{}, serviceAccounts: map[string]*corev1.ServiceAccount{},
		statefulSets: map[string]*appsv1.StatefulSet{}, deployments: map[string]*appsv1.Deployment{},
		roles: map[string]*rbacv1.Role{}, roleBindings: map[string]*rbacv1.RoleBinding{},
		pools: map[string]*inferencePool{}, monitors: map[string]*serviceMonitor{},
	}
	for i, doc := range docs {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		var err error
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			err = decodeInto(doc, o.configMaps)
		case "v1 Secret":
			err = decodeInto(doc, o.secrets)
		case "v1 Service":
			err = decodeInto(doc, o.services)
		case "v1 ServiceAccount":
			err = decodeInto(doc, o.serviceAccounts)
		case "apps/v1 StatefulSet":
			err = decodeInto(doc, o.statefulSets)
		case "apps/v1 Deployment":
			err = decodeInto(doc, o.deployments)
		case "rbac.authorization.k8s.io/v1 Role":
			err = decodeInto(doc, o.roles)
		case "rbac.authorization.k8s.io/v1 RoleBinding":
			err = decodeInto(doc, o.roleBindings)
		case "inference.networking.k8s.io/v1 InferencePool":
			err = decodeInto(doc, o.pools)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			err = decodeInto(doc, o.monitors)
		default:
			err = fmt.Errorf("unexpected kind %q %q", tm.APIVersion, tm.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i, tm.Kind, err)
		}
	}
	return o, nil
}

// named is an object with metadata.
type named interface{ GetName() string }

// decodeInto decodes doc strictly (unknown and duplicate fields are errors)
// into a new T and files it under its name.
func decodeInto[T any, PT interface {
	*T
	named
}](doc string, into map[string]PT) error {
	obj := PT(new(T))
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		return err
	}
	name := obj.GetName()
	if name == "" {
		return fmt.Errorf("no metadata.name")
	}
	if _, dup := into[name]; dup {
		return fmt.Errorf("two objects named %q", name)
	}
	into[name] = obj
	return nil
}
