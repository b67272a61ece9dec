{{- define "execgate.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "execgate.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "execgate.labels" -}}
{{ include "execgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- /* The SHA-256 of Prometheus's viewer token: computed from metricsToken, or given with existingSecret. */ -}}
{{- define "execgate.metricsTokenSha256" -}}
{{- if .Values.existingSecret -}}
{{- required "with existingSecret, set serviceMonitor.metricsTokenSha256 (the SHA-256 of the Secret's metrics-token)" .Values.serviceMonitor.metricsTokenSha256 -}}
{{- else -}}
{{- if lt (len .Values.serviceMonitor.metricsToken) 16 -}}
{{- fail "set serviceMonitor.metricsToken (at least 16 characters): Prometheus scrapes with a viewer token of its own" -}}
{{- end -}}
{{- sha256sum .Values.serviceMonitor.metricsToken -}}
{{- end -}}
{{- end -}}

{{- /* The port's name, and so its scheme: https with tls.secretName, http without. */ -}}
{{- define "execgate.portName" -}}
{{- if .Values.tls.secretName }}https{{ else }}http{{ end -}}
{{- end -}}
