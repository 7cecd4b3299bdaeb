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

{{/* Workload identity of a service: the URI SAN of its gRPC certificate (certificates.yaml).
dict "root" $ "name" <service> */}}
{{- define "custody.spiffeId" -}}
{{ printf "spiffe://%s/ns/%s/sa/%s" .root.Values.tls.clusterDomain .root.Release.Namespace (include "custody.fullname" .name) }}
{{- end -}}

{{/* CUSTODY_GRPC_ALLOWED_CALLERS of a service's gRPC port: the workload identities of exactly the
services whose flows.yaml `calls` name it, or "none" (health only). dict "root" $ "flows" <flows> "name" <service> */}}
{{- define "custody.allowedCallers" -}}
{{- $ids := list -}}
{{- range $caller := include "custody.callers" (dict "flows" .flows "name" .name) | fromJsonArray -}}
{{- $ids = append $ids (printf "uri:%s" (include "custody.spiffeId" (dict "root" $.root "name" $caller))) -}}
{{- end -}}
{{ if $ids }}{{ join "," $ids }}{{ else }}none{{ end }}
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

{{/* gRPC mTLS (values tls.*). Secret holding a service's certificate (tls.crt, tls.key, ca.crt):
dict "name" <service> "svc" <effective config> */}}
{{- define "custody.tlsSecret" -}}
{{ (.svc.tls | default dict).secretName | default (printf "custody-%s-grpc-tls" .name) }}
{{- end -}}

{{/* In-cluster DNS names of a service (its ClusterIP Service): dict "root" $ "name" <service> */}}
{{- define "custody.dnsNames" -}}
{{- $full := include "custody.fullname" .name -}}
{{- $ns := .root.Release.Namespace -}}
{{ toJson (list $full (printf "%s.%s" $full $ns) (printf "%s.%s.svc" $full $ns) (printf "%s.%s.svc.%s" $full $ns .root.Values.tls.clusterDomain)) }}
{{- end -}}

{{/* Where the certificate Secret is mounted, and the CA file peers are verified against. */}}
{{- define "custody.tlsDir" -}}/var/run/secrets/custody/grpc-tls{{- end -}}
{{- define "custody.tlsCaFile" -}}
{{- if .Values.tls.caSecret.name -}}/var/run/secrets/custody/grpc-ca/ca.crt{{- else -}}/var/run/secrets/custody/grpc-tls/ca.crt{{- end -}}
{{- end -}}

{{/*
Variables the services read today for their gRPC TLS, besides the platform's
CUSTODY_GRPC_TLS / CUSTODY_GRPC_TLS_{CERT,KEY,CLIENT_CA}_FILE (grpcServerTlsEnv): risk's server,
the signer's server, and the clients (caller -> callee -> variable prefix). A caller in
files/flows.yaml without an entry here has no client TLS configuration in its service yet
(docs/deploy.md "Service-to-service mTLS").
Rows render only for callees in flows.yaml `calls`; `tls: true` = the client also reads
<prefix>_TLS (the platform's grpcClientTlsEnv: mtls by default, plaintext only to loopback),
set to mtls. intake: its clients are audit's AuditService (operator audit gate) and the
signer's DepositAddressService (CUSTODY_INTAKE_SIGNER_*), which the chart never wires: the
signer has no callers (C-8.2.2.4-b; NOT_SET in scripts/helm/mtls.spec.ts). It has no client
for risk, policy, chain-adapter or ledger.
*/}}
{{- define "custody.tlsServerAliases" -}}
risk: { tls: "", cert: CUSTODY_TLS_CERT_FILE, key: CUSTODY_TLS_KEY_FILE, ca: CUSTODY_TLS_CLIENT_CA_FILE }
signer: { tls: CUSTODY_SIGNER_GRPC_TLS, cert: CUSTODY_SIGNER_GRPC_TLS_CERT_FILE, key: CUSTODY_SIGNER_GRPC_TLS_KEY_FILE, ca: CUSTODY_SIGNER_GRPC_TLS_CLIENT_CA_FILE }
{{- end -}}
{{- define "custody.tlsClients" -}}
policy:
  ledger: { prefix: CUSTODY_POLICY_LEDGER_GRPC, address: true }
  audit: { prefix: CUSTODY_POLICY_AUDIT_GRPC, address: true, tls: true }
intake:
  audit: { prefix: CUSTODY_INTAKE_AUDIT_GRPC, address: true, tls: true }
signer:
  # its one client: the operator audit gate of KeyAdminService (docs/signer.md)
  audit: { prefix: CUSTODY_SIGNER_AUDIT_GRPC, address: true, tls: true }
chain-adapter:
  # the operator audit gate of ChainAdminService (docs/chain-adapter.md)
  audit: { prefix: CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC, address: true, tls: true }
risk:
  # the operator audit gate of CustomerProfileService (docs/risk.md)
  audit: { prefix: CUSTODY_RISK_AUDIT_GRPC, address: true, tls: true }
ledger:
  # addresses come with the assets: services.ledger.env.CUSTODY_LEDGER_RECONCILE_TARGETS
  chain-adapter: { prefix: CUSTODY_LEDGER_CHAIN_GRPC, address: false }
{{- end -}}
