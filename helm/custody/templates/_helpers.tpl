{{/* The seven services, in flow order; the key in .Values.services is the camelCase name. */}}
{{- define "custody.serviceKeys" -}}
["intake","risk","policy","signer","chainAdapter","ledger","audit"]
{{- end -}}

{{/* The architecture's flows (files/flows.yaml) as a dict. */}}
{{- define "custody.flows" -}}
{{ .Files.Get "files/flows.yaml" }}
{{- end -}}

{{/* Effective settings of one service: defaults deep-merged with services.<key>. */}}
{{- define "custody.serviceConfig" -}}
{{- $root := .root -}}
{{- $own := index $root.Values.services .key | default dict -}}
{{- toYaml (mergeOverwrite (deepCopy $root.Values.defaults) (deepCopy $own)) -}}
{{- end -}}

{{- define "custody.chart" -}}
{{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* Labels: dict "root" $ "name" <service> */}}
{{- define "custody.selectorLabels" -}}
app.kubernetes.io/name: custody
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "custody.labels" -}}
{{ include "custody.selectorLabels" . }}
app.kubernetes.io/part-of: custody-policy-engine
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "custody.chart" .root }}
{{- end -}}

{{/* Resource, ServiceAccount, Kafka principal and Vault role base name of a service. */}}
{{- define "custody.fullname" -}}
{{ printf "custody-%s" . }}
{{- end -}}

{{/* PostgreSQL identifier of a service: chain-adapter -> chain_adapter. */}}
{{- define "custody.dbIdentifier" -}}
{{ replace "-" "_" . }}
{{- end -}}

{{/* Image reference: dict "root" $ "name" <service> "svc" <effective config> */}}
{{- define "custody.image" -}}
{{- $img := .root.Values.image -}}
{{- $own := .svc.image | default dict -}}
{{- $tag := $own.tag | default $img.tag -}}
{{- $digest := $own.digest | default "" -}}
{{- if and (has .name $img.requireDigestFor) (not $digest) -}}
{{- fail (printf "services.%s.image.digest is required: %s is on the signing path and must run the exact image that was built, scanned and signed (image.requireDigestFor)" (camelcase .name | untitle) .name) -}}
{{- end -}}
{{- $repo := printf "%s/%s/%s" $img.registry $img.repositoryPrefix .name -}}
{{- if $digest -}}
{{ printf "%s:%s@%s" $repo $tag $digest }}
{{- else -}}
{{ printf "%s:%s" $repo $tag }}
{{- end -}}
{{- end -}}

{{/* Callers of a service's gRPC: services whose flows list it under calls. */}}
{{- define "custody.callers" -}}
{{- $callers := list -}}
{{- range $caller, $f := .flows.services -}}
{{- if has $.name $f.calls -}}{{- $callers = append $callers $caller -}}{{- end -}}
{{- end -}}
{{ toJson (sortAlpha $callers) }}
{{- end -}}

{{/* Effective vault role of a service. */}}
{{- define "custody.vaultRole" -}}
{{ .svc.vault.role | default (printf "custody-%s" .name) }}
{{- end -}}

{{- define "custody.dbSecret" -}}
{{ .svc.database.existingSecret | default (printf "custody-%s-db" .name) }}
{{- end -}}

{{/* Container security context (every container of the chart). */}}
{{- define "custody.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "custody.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}
