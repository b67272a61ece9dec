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

{{- /*
A token the service accepts, as SecurityProperties checks it: at least 16 of a bearer token's characters (RFC 6750:
A-Z a-z 0-9 - . _ ~ + /, then = only at the end), which is all a request's Authorization header can carry. Called with
(list "the value's name" value "what it is for"); the service would otherwise refuse to start, or the token
would never match.
*/ -}}
{{- define "execgate.checkToken" -}}
{{- $name := index . 0 -}}
{{- $token := index . 1 | toString -}}
{{- if not $token -}}
{{- fail (printf "set %s (at least 16 characters of A-Z a-z 0-9 - . _ ~ + /): %s" $name (index . 2)) -}}
{{- end -}}
{{- if not (regexMatch "^[A-Za-z0-9._~+/-]{16,}=*$" $token) -}}
{{- fail (printf "%s must be at least 16 characters of A-Z a-z 0-9 - . _ ~ + / (= only at the end), as execgate requires of its tokens" $name) -}}
{{- end -}}
{{- end -}}

{{- /* The SHA-256 of Prometheus's metrics token: computed from metricsToken, or given with existingSecret. */ -}}
{{- define "execgate.metricsTokenSha256" -}}
{{- if .Values.existingSecret -}}
{{- required "with existingSecret, set serviceMonitor.metricsTokenSha256 (the SHA-256 of the Secret's metrics-token)" .Values.serviceMonitor.metricsTokenSha256 -}}
{{- else -}}
{{- include "execgate.checkToken" (list "serviceMonitor.metricsToken" .Values.serviceMonitor.metricsToken "Prometheus scrapes with a token of its own, with the metrics role") -}}
{{- sha256sum .Values.serviceMonitor.metricsToken -}}
{{- end -}}
{{- end -}}

{{- /* The port's name, and so its scheme: https with tls.secretName, http without. */ -}}
{{- define "execgate.portName" -}}
{{- if .Values.tls.secretName }}https{{ else }}http{{ end -}}
{{- end -}}
