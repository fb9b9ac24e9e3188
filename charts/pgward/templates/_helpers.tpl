{{/* The chart name, or nameOverride. */}}
{{- define "pgward.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<chart>, or fullnameOverride; at most 63 characters. */}}
{{- define "pgward.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "pgward.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pgward.labels" -}}
helm.sh/chart: {{ include "pgward.chart" . }}
app.kubernetes.io/name: {{ include "pgward.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels; pass a dict with "root" (the top context) and "component" (serve or worker). */}}
{{- define "pgward.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pgward.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "pgward.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret holding the secrets key: the existing one, or the chart's. */}}
{{- define "pgward.keySecretName" -}}
{{- default (include "pgward.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The Secret holding the catalog URL: the existing one, or the chart's. */}}
{{- define "pgward.catalogSecretName" -}}
{{- default (include "pgward.fullname" .) .Values.catalog.existingSecret -}}
{{- end -}}

{{- define "pgward.claimName" -}}
{{- default (printf "%s-data" (include "pgward.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{/* Environment shared by serve and worker containers. */}}
{{- define "pgward.env" -}}
- name: PGWARD_DATA_DIR
  value: /data
- name: PGWARD_SECRETS__KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "pgward.keySecretName" . }}
      key: {{ .Values.secrets.keySecretKey }}
- name: PGWARD_CATALOG__URL
  valueFrom:
    secretKeyRef:
      name: {{ include "pgward.catalogSecretName" . }}
      key: {{ .Values.catalog.urlSecretKey }}
- name: PGWARD_CATALOG__MAX_CONNECTIONS
  value: {{ .Values.catalog.maxConnections | quote }}
- name: PGWARD_POSTGRES__BIN_DIRS
  value: '["/usr/lib/postgresql"]'
- name: PGWARD_LOG__FORMAT
  value: {{ .Values.logFormat | quote }}
- name: PGWARD_LOG__LEVEL
  value: {{ .Values.logLevel | quote }}
{{- with .Values.publicUrl }}
- name: PGWARD_SERVER__PUBLIC_URL
  value: {{ . | quote }}
{{- else }}
{{- if .Values.ingress.enabled }}
- name: PGWARD_SERVER__PUBLIC_URL
  value: {{ printf "https://%s" .Values.ingress.host | quote }}
{{- end }}
{{- end }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}
