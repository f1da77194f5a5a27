{{/* Names, labels and derived settings shared by the templates. */}}

{{- define "helexa.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "helexa.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "helexa.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "helexa.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "helexa.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ include "helexa.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The neuron pods' identity: the StatefulSet, the headless Service, the
ServiceMonitor and the InferencePool all select on exactly these. */}}
{{- define "helexa.neuronSelector" -}}
app.kubernetes.io/name: {{ include "helexa.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: neuron
{{- end -}}

{{- define "helexa.cortexSelector" -}}
app.kubernetes.io/name: {{ include "helexa.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: cortex
{{- end -}}

{{- define "helexa.eppSelector" -}}
app.kubernetes.io/name: {{ include "helexa.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: endpoint-picker
{{- end -}}

{{- define "helexa.neuron" -}}{{ include "helexa.fullname" . }}-neuron{{- end -}}
{{- define "helexa.cortex" -}}{{ include "helexa.fullname" . }}-cortex{{- end -}}
{{- define "helexa.epp" -}}{{ include "helexa.fullname" . }}-epp{{- end -}}

{{/* The Secret with the API keys, if any. */}}
{{- define "helexa.secret" -}}
{{- if .Values.neuron.existingSecret -}}
{{- .Values.neuron.existingSecret -}}
{{- else if .Values.neuron.apiKeys -}}
{{- include "helexa.fullname" . }}-api-keys
{{- end -}}
{{- end -}}

{{/* neuron's metrics_require_key: "true" or "false". auto opens /metrics
     (false) when the endpoint picker, which sends no key, scrapes it. */}}
{{- define "helexa.metricsRequireKey" -}}
{{- $v := toString .Values.neuron.metricsRequireKey -}}
{{- if eq $v "auto" -}}
{{- $v = ternary "false" "true" .Values.inferencePool.enabled -}}
{{- end -}}
{{- if not (has $v (list "true" "false")) -}}
{{- fail (printf "neuron.metricsRequireKey %q is not auto, true or false" $v) -}}
{{- end -}}
{{- $v -}}
{{- end -}}

{{/* The selected flavour; an unknown one stops the render. */}}
{{- define "helexa.flavour" -}}
{{- $f := index .Values.neuron.flavours .Values.neuron.flavour -}}
{{- if not $f -}}
{{- fail (printf "neuron.flavour %q is not one of neuron.flavours" .Values.neuron.flavour) -}}
{{- end -}}
{{- toYaml $f -}}
{{- end -}}

{{/* The pod's grace period: preStop, then the drain, then a margin. */}}
{{- define "helexa.neuronGrace" -}}
{{- add .Values.neuron.preStopSeconds .Values.neuron.shutdownTimeoutSeconds .Values.neuron.graceMarginSeconds -}}
{{- end -}}
