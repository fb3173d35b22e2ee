{{/* Names: <release>-imagecast, or the release name when it already says imagecast. */}}
{{- define "imagecast.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "imagecast.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "imagecast.labels" -}}
{{ include "imagecast.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "imagecast.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The cloud queues, in a fixed order; the workflows queue is always deployed. */}}
{{- define "imagecast.cloudQueues" -}}
ec2,gce,azure
{{- end -}}

{{/*
Worker Deployments, as a JSON list: workflows, then for each enabled cloud one for its calls
(`--queues <cloud>-calls`, task queue <prefix><cloud>) and one for its uploads (`--queues
<cloud>-upload`, task queue <prefix><cloud>-upload). `values` names the workers.<key> whose
service account and keyless token the Deployment uses; `upload` says its settings are
workers.<key>.upload.
*/}}
{{- define "imagecast.workerDeployments" -}}
{{- $list := list (dict "name" "workflows" "queues" "workflows" "taskQueue" "workflows" "values" "workflows" "upload" false) -}}
{{- range $cloud := splitList "," (include "imagecast.cloudQueues" .) -}}
{{- if (index $.Values.workers $cloud).enabled -}}
{{- $upload := printf "%s-upload" $cloud -}}
{{- $list = append $list (dict "name" $cloud "queues" (printf "%s-calls" $cloud) "taskQueue" $cloud "values" $cloud "upload" false) -}}
{{- $list = append $list (dict "name" $upload "queues" $upload "taskQueue" $upload "values" $cloud "upload" true) -}}
{{- end -}}
{{- end -}}
{{- toJson $list -}}
{{- end -}}

{{- define "imagecast.workerServiceAccount" -}}
{{- $ctx := index . 0 -}}{{- $queue := index . 1 -}}
{{- $sa := (index $ctx.Values.workers $queue).serviceAccount -}}
{{- if $sa.create -}}
{{- $sa.name | default (printf "%s-worker-%s" (include "imagecast.fullname" $ctx) $queue) -}}
{{- else -}}
{{- $sa.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* Temporal connection settings every component shares: address, namespace, TLS, API key. */}}
{{- define "imagecast.temporalEnv" -}}
- name: IMAGECAST_TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: IMAGECAST_TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: IMAGECAST_QUEUE_PREFIX
  value: {{ .Values.temporal.queuePrefix | quote }}
{{- with .Values.temporal.tls }}
{{- if .secretName }}
- name: IMAGECAST_TEMPORAL_TLS_CERT
  value: /etc/imagecast/temporal-tls/{{ .certKey }}
- name: IMAGECAST_TEMPORAL_TLS_KEY
  value: /etc/imagecast/temporal-tls/{{ .keyKey }}
{{- if .caKey }}
- name: IMAGECAST_TEMPORAL_TLS_CA
  value: /etc/imagecast/temporal-tls/{{ .caKey }}
{{- end }}
{{- else if .enabled }}
- name: IMAGECAST_TEMPORAL_TLS
  value: "true"
{{- end }}
{{- if .serverName }}
- name: IMAGECAST_TEMPORAL_TLS_SERVER_NAME
  value: {{ .serverName | quote }}
{{- end }}
{{- end }}
{{- if .Values.temporal.apiKey.secretName }}
- name: IMAGECAST_TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.temporal.apiKey.secretName }}
      key: {{ .Values.temporal.apiKey.key }}
{{- end }}
{{- end -}}

{{- define "imagecast.databaseEnv" -}}
- name: IMAGECAST_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.secretName: the Secret holding the PostgreSQL URL" .Values.database.secretName }}
      key: {{ .Values.database.key }}
{{- end -}}

{{- define "imagecast.payloadKeysEnv" -}}
{{- if .Values.payloadKeys.secretName }}
- name: IMAGECAST_PAYLOAD_KEYS_FILE
  value: /etc/imagecast/payload-keys/{{ .Values.payloadKeys.key }}
{{- end }}
{{- end -}}

{{/* Secret-backed files: volumes, then their mounts (read-only). */}}
{{- define "imagecast.secretVolumes" -}}
{{- $ctx := index . 0 -}}{{- $want := index . 1 -}}
{{- if and (has "temporal-tls" $want) $ctx.Values.temporal.tls.secretName }}
- name: temporal-tls
  secret:
    secretName: {{ $ctx.Values.temporal.tls.secretName }}
    defaultMode: 0440
{{- end }}
{{- if and (has "master-keys" $want) $ctx.Values.masterKeys.secretName }}
- name: master-keys
  secret:
    secretName: {{ $ctx.Values.masterKeys.secretName }}
    defaultMode: 0440
    items:
      - {key: {{ $ctx.Values.masterKeys.key | quote }}, path: {{ $ctx.Values.masterKeys.key | quote }}}
{{- end }}
{{- if and (has "payload-keys" $want) $ctx.Values.payloadKeys.secretName }}
- name: payload-keys
  secret:
    secretName: {{ $ctx.Values.payloadKeys.secretName }}
    defaultMode: 0440
    items:
      - {key: {{ $ctx.Values.payloadKeys.key | quote }}, path: {{ $ctx.Values.payloadKeys.key | quote }}}
{{- end }}
{{- end -}}

{{- define "imagecast.secretVolumeMounts" -}}
{{- $ctx := index . 0 -}}{{- $want := index . 1 -}}
{{- if and (has "temporal-tls" $want) $ctx.Values.temporal.tls.secretName }}
- {name: temporal-tls, mountPath: /etc/imagecast/temporal-tls, readOnly: true}
{{- end }}
{{- if and (has "master-keys" $want) $ctx.Values.masterKeys.secretName }}
- {name: master-keys, mountPath: /etc/imagecast/master-keys, readOnly: true}
{{- end }}
{{- if and (has "payload-keys" $want) $ctx.Values.payloadKeys.secretName }}
- {name: payload-keys, mountPath: /etc/imagecast/payload-keys, readOnly: true}
{{- end }}
{{- end -}}

{{/* Image list publishing (templates/imagelist-config.yaml): the workflows worker's config file. */}}
{{- define "imagecast.imageListConfigName" -}}
{{- printf "%s-imagelist-config" (include "imagecast.fullname" .) -}}
{{- end -}}

{{- define "imagecast.imageListConfigPath" -}}
/etc/imagecast/config/config.json
{{- end -}}
