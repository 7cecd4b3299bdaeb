{{/*
Pod template of one service: dict "root" $ "name" <service> "key" <values key> "svc" <effective config>
Secrets are mounted as files from Secrets named here (never values); the service reads
*_FILE variables. Servers bind the pod IP (a specific address, never 0.0.0.0).
*/}}
{{- define "custody.podTemplate" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $svc := .svc -}}
{{- $full := include "custody.fullname" $name -}}
{{- $id := include "custody.dbIdentifier" $name -}}
{{- $flows := include "custody.flows" $root | fromYaml -}}
{{- $flow := index $flows.services $name -}}
{{- $grace := int $svc.terminationGracePeriodSeconds -}}
{{- $shutdown := sub $grace 5 -}}
{{- if lt $shutdown 1 }}{{ fail (printf "services.%s.terminationGracePeriodSeconds must leave 5 s after the service's own shutdown grace" $name) }}{{ end -}}
metadata:
  labels:
    {{- include "custody.labels" (dict "root" $root "name" $name) | nindent 4 }}
    custody.io/job: {{ $full }}
  {{- if $root.Values.metrics.scrapeAnnotations }}
  annotations:
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $root.Values.metrics.port | int | quote }}
    prometheus.io/path: /metrics
  {{- end }}
spec:
  serviceAccountName: {{ $full }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ $grace }}
  {{- with $svc.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- include "custody.podSecurityContext" . | nindent 4 }}
  {{- with $root.Values.image.pullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  {{- with $svc.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $svc.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: topology.kubernetes.io/zone
      whenUnsatisfiable: {{ $svc.topologySpread.zone }}
      labelSelector:
        matchLabels:
          {{- include "custody.selectorLabels" (dict "root" $root "name" $name) | nindent 10 }}
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: {{ $svc.topologySpread.host }}
      labelSelector:
        matchLabels:
          {{- include "custody.selectorLabels" (dict "root" $root "name" $name) | nindent 10 }}
  containers:
    - name: {{ $name }}
      image: {{ include "custody.image" (dict "root" $root "name" $name "svc" $svc) }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      securityContext:
        {{- include "custody.containerSecurityContext" . | nindent 8 }}
      ports:
        - name: grpc
          containerPort: {{ $svc.grpcPort | int }}
          protocol: TCP
        - name: metrics
          containerPort: {{ $root.Values.metrics.port | int }}
          protocol: TCP
        {{- if and (eq $name "intake") $root.Values.intakeAdmin.enabled }}
        - name: admin
          containerPort: {{ $root.Values.intakeAdmin.port | int }}
          protocol: TCP
        {{- end }}
      env:
        - { name: CUSTODY_SERVICE, value: {{ $name | quote }} }
        - name: CUSTODY_POD_IP
          valueFrom: { fieldRef: { fieldPath: status.podIP } }
        - { name: CUSTODY_GRPC_HOST, value: "$(CUSTODY_POD_IP)" }
        - { name: CUSTODY_GRPC_PORT, value: {{ $svc.grpcPort | int | quote }} }
        - { name: CUSTODY_METRICS_HOST, value: "$(CUSTODY_POD_IP)" }
        - { name: CUSTODY_METRICS_PORT, value: {{ $root.Values.metrics.port | int | quote }} }
        - { name: CUSTODY_LOG_LEVEL, value: {{ $svc.logLevel | quote }} }
        {{- if and (eq $name "intake") $root.Values.intakeAdmin.enabled }}
        {{- /* IntakeAdminService: own port, operators' CA, pinned operators (docs/intake.md) */}}
        - { name: CUSTODY_INTAKE_ADMIN_HOST, value: "$(CUSTODY_POD_IP)" }
        - { name: CUSTODY_INTAKE_ADMIN_PORT, value: {{ $root.Values.intakeAdmin.port | int | quote }} }
        - { name: CUSTODY_INTAKE_ADMIN_CLIENT_CA_FILE, value: /var/run/secrets/custody/operator-ca/ca.crt }
        - { name: CUSTODY_INTAKE_OPERATORS_FILE, value: /etc/custody/intake-operators/operators.json }
        {{- end }}
        - { name: CUSTODY_SHUTDOWN_GRACE, value: "{{ $shutdown }}s" }
        {{- /* gRPC mTLS: the pod's own certificate serves (server auth) and calls (client auth);
        peers must chain to the CA file. Files only: the key is never an environment value. */}}
        {{- $tlsDir := include "custody.tlsDir" . }}
        {{- $caFile := include "custody.tlsCaFile" $root }}
        - { name: CUSTODY_GRPC_TLS, value: "mtls" }
        - { name: CUSTODY_GRPC_TLS_CERT_FILE, value: {{ printf "%s/tls.crt" $tlsDir | quote }} }
        - { name: CUSTODY_GRPC_TLS_KEY_FILE, value: {{ printf "%s/tls.key" $tlsDir | quote }} }
        - { name: CUSTODY_GRPC_TLS_CLIENT_CA_FILE, value: {{ $caFile | quote }} }
        {{- /* Caller identity (C-9.3.10.2-b): only the services whose flows.yaml `calls` name this one, by
        their certificate's SPIFFE URI SAN; "none" = nobody (health stays open). Not for an
        externally reached port (intake: integrators are authenticated per integrator). Operator
        APIs on the same port are exempt in code (operatorFacing) and authenticate operators themselves. */}}
        {{- if not $flow.externalIngress }}
        - { name: CUSTODY_GRPC_ALLOWED_CALLERS, value: {{ include "custody.allowedCallers" (dict "root" $root "flows" $flows "name" $name) | quote }} }
        {{- end }}
        - { name: CUSTODY_GRPC_TLS_SERVER_NAME, value: {{ $full | quote }} }
        - { name: CUSTODY_GRPC_PROBE_TIMEOUT, value: {{ $root.Values.healthProbe.timeoutMs | int | quote }} }
        {{- with index (include "custody.tlsServerAliases" . | fromYaml) $name }}
        {{- if .tls }}
        - { name: {{ .tls }}, value: "mtls" }
        {{- end }}
        - { name: {{ .cert }}, value: {{ printf "%s/tls.crt" $tlsDir | quote }} }
        - { name: {{ .key }}, value: {{ printf "%s/tls.key" $tlsDir | quote }} }
        - { name: {{ .ca }}, value: {{ $caFile | quote }} }
        {{- end }}
        {{- $clients := index (include "custody.tlsClients" . | fromYaml) $name | default dict }}
        {{- range $callee := $flow.calls }}
        {{- with index $clients $callee }}
        {{- $calleeSvc := include "custody.serviceConfig" (dict "root" $root "key" (camelcase $callee | untitle)) | fromYaml }}
        {{- if .address }}
        - { name: {{ printf "%s_ADDRESS" .prefix }}, value: {{ printf "%s.%s.svc:%d" (include "custody.fullname" $callee) $root.Release.Namespace ($calleeSvc.grpcPort | int) | quote }} }
        {{- end }}
        {{- if .tls }}
        - { name: {{ printf "%s_TLS" .prefix }}, value: "mtls" }
        {{- end }}
        - { name: {{ printf "%s_CA_FILE" .prefix }}, value: {{ $caFile | quote }} }
        - { name: {{ printf "%s_CERT_FILE" .prefix }}, value: {{ printf "%s/tls.crt" $tlsDir | quote }} }
        - { name: {{ printf "%s_KEY_FILE" .prefix }}, value: {{ printf "%s/tls.key" $tlsDir | quote }} }
        {{- end }}
        {{- end }}
        - { name: KAFKA_BROKERS, value: {{ $root.Values.kafka.bootstrapServers | quote }} }
        - { name: CUSTODY_KAFKA_CLIENT_ID, value: {{ $full | quote }} }
        {{- /* Kafka client security: read by kafkaSecurityFromEnv (libs/event-bus/src/adapters/kafka-security.ts)
        in every main.ts; scripts/helm/kafka-security.spec.ts checks the names against it. */}}
        - { name: CUSTODY_KAFKA_SECURITY, value: {{ $root.Values.kafka.authentication | quote }} }
        - { name: CUSTODY_KAFKA_CA_FILE, value: /var/run/secrets/custody/kafka-ca/ca.crt }
        {{- if eq $root.Values.kafka.authentication "tls" }}
        - { name: CUSTODY_KAFKA_CERT_FILE, value: /var/run/secrets/custody/kafka/user.crt }
        - { name: CUSTODY_KAFKA_KEY_FILE, value: /var/run/secrets/custody/kafka/user.key }
        {{- else }}
        - { name: CUSTODY_KAFKA_USERNAME, value: {{ $full | quote }} }
        - { name: CUSTODY_KAFKA_PASSWORD_FILE, value: /var/run/secrets/custody/kafka/password }
        {{- end }}
        {{- if $svc.database.enabled }}
        - { name: CUSTODY_DB_HOST, value: {{ $root.Values.database.host | quote }} }
        - { name: CUSTODY_DB_PORT, value: {{ $root.Values.database.port | int | quote }} }
        - { name: CUSTODY_DB_NAME, value: {{ $root.Values.database.name | quote }} }
        - { name: CUSTODY_DB_SCHEMA, value: {{ $id | quote }} }
        - { name: CUSTODY_DB_USER, value: {{ printf "%s_app" $id | quote }} }
        - { name: CUSTODY_DB_PASSWORD_FILE, value: /var/run/secrets/custody/db/password }
        - { name: CUSTODY_DB_SSLMODE, value: {{ $root.Values.database.sslMode | quote }} }
        {{- if $root.Values.database.caSecret.name }}
        - { name: CUSTODY_DB_CA_FILE, value: /var/run/secrets/custody/db-ca/ca.crt }
        {{- end }}
        {{- end }}
        {{- if $svc.vault.enabled }}
        - { name: CUSTODY_VAULT_ADDR, value: {{ $root.Values.vault.address | quote }} }
        - { name: CUSTODY_VAULT_AUTH_PATH, value: {{ $root.Values.vault.authPath | quote }} }
        - { name: CUSTODY_VAULT_ROLE, value: {{ include "custody.vaultRole" (dict "name" $name "svc" $svc) | quote }} }
        - { name: CUSTODY_VAULT_JWT_FILE, value: /var/run/secrets/custody/vault/token }
        {{- if $root.Values.vault.caSecret.name }}
        - { name: CUSTODY_VAULT_CA_FILE, value: /var/run/secrets/custody/vault-ca/ca.crt }
        {{- end }}
        {{- end }}
        {{- if has "egressProxy" $flow.egress }}
        - { name: HTTPS_PROXY, value: {{ $root.Values.egressProxy.url | quote }} }
        - { name: HTTP_PROXY, value: {{ $root.Values.egressProxy.url | quote }} }
        - { name: NO_PROXY, value: {{ $root.Values.egressProxy.noProxy | quote }} }
        {{- end }}
        {{- if eq $name "chain-adapter" }}
        {{- range $chain, $ep := $root.Values.chainRpc.endpoints }}
        - { name: {{ printf "CUSTODY_CHAIN_RPC_%s_URL" (upper (replace "-" "_" $chain)) }}, value: {{ $ep.url | quote }} }
        {{- if $ep.credentialsSecret }}
        - { name: {{ printf "CUSTODY_CHAIN_RPC_%s_API_KEY_FILE" (upper (replace "-" "_" $chain)) }}, value: {{ printf "/var/run/secrets/custody/rpc-%s/api-key" $chain | quote }} }
        {{- end }}
        {{- end }}
        {{- end }}
        {{- if eq $name "ledger" }}
        {{- /* Reconciliation with the chain (docs/ledger.md): each asset of reconciliation.targets
        against chain-adapter's ChainQueryService on its Service's gRPC port (mTLS, see above). */}}
        {{- if hasKey $svc.env "CUSTODY_LEDGER_RECONCILE_TARGETS" }}{{ fail "set reconciliation.targets, not services.ledger.env.CUSTODY_LEDGER_RECONCILE_TARGETS" }}{{ end }}
        {{- $chainSvc := include "custody.serviceConfig" (dict "root" $root "key" "chainAdapter") | fromYaml }}
        {{- $chainAddr := printf "%s.%s.svc:%d" (include "custody.fullname" "chain-adapter") $root.Release.Namespace ($chainSvc.grpcPort | int) }}
        {{- $targets := list }}
        {{- range $asset, $chain := $root.Values.reconciliation.targets }}
        {{- $targets = append $targets (printf "%s=%s@%s" $asset $chain $chainAddr) }}
        {{- end }}
        {{- with $targets }}
        - { name: CUSTODY_LEDGER_RECONCILE_TARGETS, value: {{ join "," . | quote }} }
        {{- end }}
        {{- end }}
        {{- range $k, $v := $svc.env }}
        - { name: {{ $k }}, value: {{ $v | toString | quote }} }
        {{- end }}
      startupProbe:
        exec: { command: {{ toJson $root.Values.healthProbe.command }} }
        periodSeconds: {{ $svc.probes.startup.periodSeconds | int }}
        failureThreshold: {{ $svc.probes.startup.failureThreshold | int }}
        timeoutSeconds: {{ $svc.probes.startup.timeoutSeconds | int }}
      readinessProbe:
        exec: { command: {{ toJson $root.Values.healthProbe.command }} }
        periodSeconds: {{ $svc.probes.readiness.periodSeconds | int }}
        failureThreshold: {{ $svc.probes.readiness.failureThreshold | int }}
        timeoutSeconds: {{ $svc.probes.readiness.timeoutSeconds | int }}
      livenessProbe:
        exec: { command: {{ toJson $root.Values.healthProbe.command }} }
        periodSeconds: {{ $svc.probes.liveness.periodSeconds | int }}
        failureThreshold: {{ $svc.probes.liveness.failureThreshold | int }}
        timeoutSeconds: {{ $svc.probes.liveness.timeoutSeconds | int }}
      resources:
        {{- toYaml $svc.resources | nindent 8 }}
      volumeMounts:
        - { name: tmp, mountPath: /tmp }
        - { name: kafka-user, mountPath: /var/run/secrets/custody/kafka, readOnly: true }
        - { name: kafka-ca, mountPath: /var/run/secrets/custody/kafka-ca, readOnly: true }
        - { name: grpc-tls, mountPath: {{ include "custody.tlsDir" . }}, readOnly: true }
        {{- if and (eq $name "intake") $root.Values.intakeAdmin.enabled }}
        - { name: operator-ca, mountPath: /var/run/secrets/custody/operator-ca, readOnly: true }
        - { name: intake-operators, mountPath: /etc/custody/intake-operators, readOnly: true }
        {{- end }}
        {{- if $root.Values.tls.caSecret.name }}
        - { name: grpc-ca, mountPath: /var/run/secrets/custody/grpc-ca, readOnly: true }
        {{- end }}
        {{- if $svc.database.enabled }}
        - { name: db, mountPath: /var/run/secrets/custody/db, readOnly: true }
        {{- if $root.Values.database.caSecret.name }}
        - { name: db-ca, mountPath: /var/run/secrets/custody/db-ca, readOnly: true }
        {{- end }}
        {{- end }}
        {{- if $svc.vault.enabled }}
        - { name: vault-token, mountPath: /var/run/secrets/custody/vault, readOnly: true }
        {{- if $root.Values.vault.caSecret.name }}
        - { name: vault-ca, mountPath: /var/run/secrets/custody/vault-ca, readOnly: true }
        {{- end }}
        {{- end }}
        {{- if eq $name "chain-adapter" }}
        {{- range $chain, $ep := $root.Values.chainRpc.endpoints }}
        {{- if $ep.credentialsSecret }}
        - { name: {{ printf "rpc-%s" $chain }}, mountPath: {{ printf "/var/run/secrets/custody/rpc-%s" $chain }}, readOnly: true }
        {{- end }}
        {{- end }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: { sizeLimit: {{ $svc.tmpSizeLimit }} }
    - name: kafka-user
      secret:
        # created by the Strimzi User Operator for KafkaUser {{ $full }}
        secretName: {{ $full }}
        defaultMode: 288 # 0440: the user key / SCRAM password, readable by group fsGroup (the service user) only
        items:
          {{- if eq $root.Values.kafka.authentication "tls" }}
          - { key: user.crt, path: user.crt }
          - { key: user.key, path: user.key }
          {{- else }}
          - { key: password, path: password }
          {{- end }}
    - name: kafka-ca
      secret:
        secretName: {{ $root.Values.kafka.caSecret.name }}
        items:
          - { key: {{ $root.Values.kafka.caSecret.key }}, path: ca.crt }
    - name: grpc-tls
      secret:
        # {{ if eq $root.Values.tls.mode "certManager" }}issued by cert-manager (Certificate {{ $full }}-grpc){{ else }}provided by the operator (tls.mode existingSecrets){{ end }}
        secretName: {{ include "custody.tlsSecret" (dict "name" $name "svc" $svc) }}
        defaultMode: 288 # 0440: owner root, group fsGroup 65532 (the service user)
        items:
          - { key: tls.crt, path: tls.crt }
          - { key: tls.key, path: tls.key }
          {{- if not $root.Values.tls.caSecret.name }}
          - { key: ca.crt, path: ca.crt }
          {{- end }}
    {{- if and (eq $name "intake") $root.Values.intakeAdmin.enabled }}
    - name: operator-ca
      secret:
        secretName: {{ $root.Values.intakeAdmin.operatorCaSecret.name }}
        items:
          - { key: {{ $root.Values.intakeAdmin.operatorCaSecret.key }}, path: ca.crt }
    - name: intake-operators
      configMap:
        name: {{ $root.Values.intakeAdmin.operatorsConfigMap.name }}
        items:
          - { key: {{ $root.Values.intakeAdmin.operatorsConfigMap.key }}, path: operators.json }
    {{- end }}
    {{- if $root.Values.tls.caSecret.name }}
    - name: grpc-ca
      secret:
        secretName: {{ $root.Values.tls.caSecret.name }}
        items:
          - { key: {{ $root.Values.tls.caSecret.key }}, path: ca.crt }
    {{- end }}
    {{- if $svc.database.enabled }}
    - name: db
      secret:
        secretName: {{ include "custody.dbSecret" (dict "name" $name "svc" $svc) }}
        # only the runtime role's password; the owner password stays with the migration Job
        items:
          - { key: {{ $svc.database.appPasswordKey }}, path: password }
    {{- if $root.Values.database.caSecret.name }}
    - name: db-ca
      secret:
        secretName: {{ $root.Values.database.caSecret.name }}
        items:
          - { key: {{ $root.Values.database.caSecret.key }}, path: ca.crt }
    {{- end }}
    {{- end }}
    {{- if $svc.vault.enabled }}
    - name: vault-token
      projected:
        sources:
          - serviceAccountToken:
              # audience-bound: accepted by Vault's kubernetes auth role, refused by the API server
              audience: {{ $root.Values.vault.audience }}
              expirationSeconds: {{ $root.Values.vault.tokenExpirationSeconds | int }}
              path: token
    {{- if $root.Values.vault.caSecret.name }}
    - name: vault-ca
      secret:
        secretName: {{ $root.Values.vault.caSecret.name }}
        items:
          - { key: {{ $root.Values.vault.caSecret.key }}, path: ca.crt }
    {{- end }}
    {{- end }}
    {{- if eq $name "chain-adapter" }}
    {{- range $chain, $ep := $root.Values.chainRpc.endpoints }}
    {{- if $ep.credentialsSecret }}
    - name: {{ printf "rpc-%s" $chain }}
      secret:
        secretName: {{ $ep.credentialsSecret.name }}
        items:
          - { key: {{ $ep.credentialsSecret.key }}, path: api-key }
    {{- end }}
    {{- end }}
    {{- end }}
{{- end -}}
