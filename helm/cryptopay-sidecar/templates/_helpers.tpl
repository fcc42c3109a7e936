{{/*
Every helper takes a dict with "top" (the root context: .Release, .Chart, .Capabilities) and
"values" (this chart's values). Inside this chart that is (dict "top" . "values" .Values); an
application chart that includes the sidecar passes its root context and the values it keeps
for this chart, e.g. (dict "top" $ "values" .Values.cryptopay) - see docs/helm.md.
*/}}

{{- define "cryptopay-sidecar.name" -}}
{{- .values.nameOverride | default "cryptopay-sidecar" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "cryptopay-sidecar.fullname" -}}
{{- if .values.fullnameOverride }}
{{- .values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "cryptopay-sidecar.name" . }}
{{- if contains $name .top.Release.Name }}
{{- .top.Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .top.Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "cryptopay-sidecar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cryptopay-sidecar.name" . }}
app.kubernetes.io/instance: {{ .top.Release.Name }}
{{- end }}

{{- define "cryptopay-sidecar.labels" -}}
helm.sh/chart: {{ printf "cryptopay-sidecar-%s" .top.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cryptopay-sidecar.selectorLabels" . }}
app.kubernetes.io/version: {{ .top.Chart.AppVersion | default "0.1.0" | quote }}
app.kubernetes.io/managed-by: {{ .top.Release.Service }}
app.kubernetes.io/part-of: cryptopay-sidecar
{{- end }}

{{- define "cryptopay-sidecar.image" -}}
{{- $image := .values.image }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (required "image.tag or image.digest is required" $image.tag) }}
{{- end }}
{{- end }}

{{- define "cryptopay-sidecar.tokenSecret" -}}
{{- .values.token.existingSecret | default (printf "%s-token" (include "cryptopay-sidecar.fullname" .)) }}
{{- end }}

{{- define "cryptopay-sidecar.policyConfigMap" -}}
{{- .values.policy.existingConfigMap | default (printf "%s-policy" (include "cryptopay-sidecar.fullname" .)) }}
{{- end }}

{{- define "cryptopay-sidecar.hasPolicy" -}}
{{- if or .values.policy.existingConfigMap .values.policy.inline }}true{{ end }}
{{- end }}

{{/* Whether a listener (grpc, api, webhook, admin) serves TLS: "true" or "". */}}
{{- define "cryptopay-sidecar.tlsOn" -}}
{{- if and .values.tls.enabled (has .listener .values.tls.listeners) }}true{{ end }}
{{- end }}

{{- define "cryptopay-sidecar.tlsSecret" -}}
{{- if .values.tls.certManager.enabled }}
{{- printf "%s-tls" (include "cryptopay-sidecar.fullname" .) }}
{{- else }}
{{- required "tls.existingSecret or tls.certManager.enabled is required when tls.enabled" .values.tls.existingSecret }}
{{- end }}
{{- end }}

{{/* The client CA comes from the TLS Secret unless a Secret or ConfigMap of its own is named. */}}
{{- define "cryptopay-sidecar.clientCAapart" -}}
{{- $ca := .values.tls.clientCA }}
{{- if and .values.tls.enabled $ca.enabled (or $ca.existingSecret $ca.existingConfigMap) }}true{{ end }}
{{- end }}

{{- define "cryptopay-sidecar.serviceAccountName" -}}
{{- if .values.serviceAccount.create }}
{{- .values.serviceAccount.name | default (include "cryptopay-sidecar.fullname" .) }}
{{- else }}
{{- .values.serviceAccount.name | default "default" }}
{{- end }}
{{- end }}

{{/* Where the gRPC API listens: the pod's loopback in sidecar mode unless exposed. */}}
{{- define "cryptopay-sidecar.grpcHost" -}}
{{- if .values.grpc.host }}
{{- .values.grpc.host }}
{{- else if eq .values.mode "sidecar" }}
{{- "127.0.0.1" }}
{{- else }}
{{- "0.0.0.0" }}
{{- end }}
{{- end }}

{{/* The HTTP front listens where the gRPC API does unless told otherwise. */}}
{{- define "cryptopay-sidecar.apiHost" -}}
{{- .values.api.host | default (include "cryptopay-sidecar.grpcHost" .) }}
{{- end }}

{{/*
Native gRPC probes need the gRPC port on the pod IP; a loopback-only API uses /readyz on the
admin port, which reports the same readiness as the gRPC health service.
*/}}
{{- define "cryptopay-sidecar.probeKind" -}}
{{- if ne .values.probes.kind "auto" }}
{{- .values.probes.kind }}
{{- else if hasPrefix "127." (include "cryptopay-sidecar.grpcHost" .) }}
{{- "http" }}
{{- else if include "cryptopay-sidecar.tlsOn" (merge (dict "listener" "grpc") .) }}
{{- /* The kubelet's gRPC probe speaks plaintext only: it cannot complete a TLS handshake. */}}
{{- "http" }}
{{- else }}
{{- "grpc" }}
{{- end }}
{{- end }}

{{/* An HTTP check on the admin port; HTTPS when it serves TLS (the kubelet does not verify
the certificate, so probes need no CA). */}}
{{- define "cryptopay-sidecar.adminGet" -}}
httpGet:
  path: {{ .path }}
  port: admin
  {{- if include "cryptopay-sidecar.tlsOn" (merge (dict "listener" "admin") .) }}
  scheme: HTTPS
  {{- end }}
{{- end }}

{{- define "cryptopay-sidecar.readinessCheck" -}}
{{- if eq (include "cryptopay-sidecar.probeKind" .) "grpc" }}
grpc:
  port: {{ .values.ports.grpc }}
  service: ""
{{- else }}
{{- include "cryptopay-sidecar.adminGet" (merge (dict "path" "/readyz") .) }}
{{- end }}
{{- end }}

{{/*
The sidecar container. In sidecar mode an application's chart includes it in its pod spec:
under initContainers when sidecar.native is true (Kubernetes >= 1.30: started before and
stopped after the application), under containers otherwise.
*/}}
{{/*
Readiness mode: explicit, or by deployment mode. A sidecar's readiness gates its application's
pod, so a Redis outage must not take traffic that never touches Crypto Pay out of the Service.
*/}}
{{- define "cryptopay-sidecar.readinessMode" -}}
{{- if .readiness -}}
{{- .readiness -}}
{{- else if eq .mode "sidecar" -}}
degraded
{{- else -}}
strict
{{- end -}}
{{- end }}

{{- define "cryptopay-sidecar.container" -}}
{{- $v := .values }}
{{- $demo := $v.demo.enabled }}
{{- $used := list (int $v.ports.grpc) (int $v.ports.http) (int $v.ports.admin) }}
{{- if $v.api.enabled }}{{ $used = append $used (int $v.ports.api) }}{{ end }}
{{- if $demo }}{{ $used = append $used (int $v.demo.emulatorPort) }}{{ end }}
{{- if ne (len $used) (len (uniq $used)) }}
{{- fail (printf "ports: every listener needs a port of its own, got %v (grpc, http, admin, then api and the demo emulator when on)" $used) }}
{{- end }}
- name: {{ $v.containerName }}
  image: {{ include "cryptopay-sidecar.image" . | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  {{- if and (eq $v.mode "sidecar") $v.sidecar.native }}
  restartPolicy: Always
  {{- end }}
  args:
    - serve
    - --grpc-listen={{ include "cryptopay-sidecar.grpcHost" . }}:{{ $v.ports.grpc }}
    - --http-listen=0.0.0.0:{{ $v.ports.http }}
    {{- /* Always apart: the http port, which an Ingress may expose, then serves webhooks only. */}}
    - --admin-listen=0.0.0.0:{{ $v.ports.admin }}
    {{- if $v.api.enabled }}
    - --api-listen={{ include "cryptopay-sidecar.apiHost" . }}:{{ $v.ports.api }}
    {{- end }}
    {{- if $demo }}
    - --demo
    - --demo-emulator-listen=127.0.0.1:{{ $v.demo.emulatorPort }}
    {{- else }}
    - --upstream={{ $v.upstream }}
    - --token-file=/var/run/secrets/cryptopay/token
    {{- end }}
    {{- if include "cryptopay-sidecar.hasPolicy" . }}
    - --policy=/etc/cryptopay-sidecar/policies
    {{- end }}
    - --log-level={{ $v.logLevel }}
    - --log-format={{ $v.logFormat }}
    - --grace={{ $v.gracePeriodSeconds }}
    - --request-timeout={{ $v.requestTimeoutSeconds }}
    - --spend-lease={{ $v.spendLeaseSeconds }}
    - --readiness={{ include "cryptopay-sidecar.readinessMode" $v }}
    {{- if $v.tls.enabled }}
    - --tls-cert=/etc/cryptopay-sidecar/tls/tls.crt
    - --tls-key=/etc/cryptopay-sidecar/tls/tls.key
    - --tls-listeners={{ join "," $v.tls.listeners }}
    {{- if $v.tls.clientCA.enabled }}
    - --tls-client-ca={{ ternary "/etc/cryptopay-sidecar/client-ca/ca.crt" "/etc/cryptopay-sidecar/tls/ca.crt" (eq (include "cryptopay-sidecar.clientCAapart" .) "true") }}
    {{- end }}
    {{- end }}
    {{- range $v.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  env:
    {{- if and $v.token.previousKey (not $demo) }}
    - name: CRYPTOPAY_SIDECAR_PREVIOUS_TOKEN_FILE
      value: /var/run/secrets/cryptopay/previous-token
    {{- end }}
    {{- if $v.webhook.path }}
    - name: CRYPTOPAY_SIDECAR_WEBHOOK_PATH
      value: {{ $v.webhook.path | quote }}
    {{- end }}
    {{- if $v.redis.existingSecret }}
    - name: CRYPTOPAY_SIDECAR_REDIS_URL
      valueFrom:
        secretKeyRef:
          name: {{ $v.redis.existingSecret }}
          key: {{ $v.redis.existingSecretKey }}
    {{- else if $v.redis.url }}
    - name: CRYPTOPAY_SIDECAR_REDIS_URL
      value: {{ $v.redis.url | quote }}
    {{- end }}
    {{- if $v.otel.endpoint }}
    - name: OTEL_EXPORTER_OTLP_ENDPOINT
      value: {{ $v.otel.endpoint | quote }}
    - name: OTEL_EXPORTER_OTLP_PROTOCOL
      value: {{ $v.otel.protocol | quote }}
    - name: OTEL_SERVICE_NAME
      value: {{ $v.otel.serviceName | default (include "cryptopay-sidecar.fullname" .) | quote }}
    - name: K8S_POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: K8S_NAMESPACE_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    - name: OTEL_RESOURCE_ATTRIBUTES
      value: {{ printf "k8s.pod.name=$(K8S_POD_NAME),k8s.namespace.name=$(K8S_NAMESPACE_NAME)%s" (ternary (printf ",%s" $v.otel.resourceAttributes) "" (ne $v.otel.resourceAttributes "")) | quote }}
    {{- end }}
    {{- with $v.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: {{ $v.ports.grpcName }}
      containerPort: {{ $v.ports.grpc }}
      protocol: TCP
    - name: http
      containerPort: {{ $v.ports.http }}
      protocol: TCP
    - name: admin
      containerPort: {{ $v.ports.admin }}
      protocol: TCP
    {{- if $v.api.enabled }}
    - name: api
      containerPort: {{ $v.ports.api }}
      protocol: TCP
    {{- end }}
  {{- if $v.probes.startup.enabled }}
  startupProbe:
    {{- include "cryptopay-sidecar.readinessCheck" . | trim | nindent 4 }}
    periodSeconds: {{ $v.probes.startup.periodSeconds }}
    failureThreshold: {{ $v.probes.startup.failureThreshold }}
    timeoutSeconds: {{ $v.probes.startup.timeoutSeconds }}
  {{- end }}
  {{- if $v.probes.readiness.enabled }}
  readinessProbe:
    {{- include "cryptopay-sidecar.readinessCheck" . | trim | nindent 4 }}
    periodSeconds: {{ $v.probes.readiness.periodSeconds }}
    failureThreshold: {{ $v.probes.readiness.failureThreshold }}
    timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
  {{- end }}
  {{- if $v.probes.liveness.enabled }}
  {{- /* Liveness asks only whether the process serves: readiness flips while draining. */}}
  livenessProbe:
    {{- include "cryptopay-sidecar.adminGet" (merge (dict "path" "/healthz") .) | trim | nindent 4 }}
    periodSeconds: {{ $v.probes.liveness.periodSeconds }}
    failureThreshold: {{ $v.probes.liveness.failureThreshold }}
    timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
  {{- end }}
  {{- if $v.preStopSleepSeconds }}
  lifecycle:
    {{- /* Keep serving while endpoints and load balancers forget this pod. */}}
    preStop:
      sleep:
        seconds: {{ $v.preStopSleepSeconds }}
  {{- end }}
  resources:
    {{- toYaml $v.resources | nindent 4 }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  volumeMounts:
    {{- if not $demo }}
    - name: {{ $v.containerName }}-token
      mountPath: /var/run/secrets/cryptopay
      readOnly: true
    {{- end }}
    {{- if include "cryptopay-sidecar.hasPolicy" . }}
    {{- /* A directory mount, never subPath: the kubelet swaps the ConfigMap's symlink in place
    and the sidecar reloads the policy without a restart. */}}
    - name: {{ $v.containerName }}-policy
      mountPath: /etc/cryptopay-sidecar/policies
      readOnly: true
    {{- end }}
    {{- if $v.tls.enabled }}
    {{- /* Directory mounts again: cert-manager renews into the Secret, the kubelet swaps the
    symlink, and the sidecar serves the new certificate on new connections. */}}
    - name: {{ $v.containerName }}-tls
      mountPath: /etc/cryptopay-sidecar/tls
      readOnly: true
    {{- end }}
    {{- if include "cryptopay-sidecar.clientCAapart" . }}
    - name: {{ $v.containerName }}-client-ca
      mountPath: /etc/cryptopay-sidecar/client-ca
      readOnly: true
    {{- end }}
    - name: {{ $v.containerName }}-tmp
      mountPath: /tmp
{{- end }}

{{/* The pod volumes the container mounts. */}}
{{- define "cryptopay-sidecar.volumes" -}}
{{- $v := .values }}
{{- if not $v.demo.enabled }}
- name: {{ $v.containerName }}-token
  secret:
    secretName: {{ include "cryptopay-sidecar.tokenSecret" . }}
    {{- /* Group-readable through the gateway pod's fsGroup; in an application's pod (whose
    fsGroup this chart does not set) readable by all, but mounted in this container only. */}}
    defaultMode: {{ ternary 0440 0444 (eq $v.mode "gateway") }}
    items:
      - key: {{ $v.token.key }}
        path: token
      {{- if $v.token.previousKey }}
      - key: {{ $v.token.previousKey }}
        path: previous-token
      {{- end }}
{{- end }}
{{- if include "cryptopay-sidecar.hasPolicy" . }}
- name: {{ $v.containerName }}-policy
  configMap:
    name: {{ include "cryptopay-sidecar.policyConfigMap" . }}
{{- end }}
{{- if $v.tls.enabled }}
- name: {{ $v.containerName }}-tls
  secret:
    secretName: {{ include "cryptopay-sidecar.tlsSecret" . }}
    defaultMode: {{ ternary 0440 0444 (eq $v.mode "gateway") }}
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
      {{- if and $v.tls.clientCA.enabled (not (include "cryptopay-sidecar.clientCAapart" .)) }}
      - key: {{ $v.tls.clientCA.key }}
        path: ca.crt
      {{- end }}
{{- end }}
{{- if include "cryptopay-sidecar.clientCAapart" . }}
- name: {{ $v.containerName }}-client-ca
  {{- if $v.tls.clientCA.existingSecret }}
  secret:
    secretName: {{ $v.tls.clientCA.existingSecret }}
  {{- else }}
  configMap:
    name: {{ $v.tls.clientCA.existingConfigMap }}
  {{- end }}
    {{- /* A CA bundle is public: readable by all is fine. */}}
    defaultMode: 0444
    items:
      - key: {{ $v.tls.clientCA.key }}
        path: ca.crt
{{- end }}
- name: {{ $v.containerName }}-tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{/* The policy ConfigMap (rendered by this chart in both modes when policies are inline). */}}
{{- define "cryptopay-sidecar.policyConfigMapManifest" -}}
{{- if and .values.policy.inline (not .values.policy.existingConfigMap) }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "cryptopay-sidecar.policyConfigMap" . }}
  namespace: {{ .top.Release.Namespace }}
  labels:
    {{- include "cryptopay-sidecar.labels" . | nindent 4 }}
data:
  {{- range $file, $content := .values.policy.inline }}
  {{ $file }}: |
    {{- $content | trim | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
The cert-manager Certificate whose Secret the container mounts (rendered by this chart in both
modes, like the policy ConfigMap). Its default names are the ones clients dial: the Service's in
gateway mode, the pod's loopback in sidecar mode.
*/}}
{{- define "cryptopay-sidecar.certificateManifest" -}}
{{- $v := .values }}
{{- $cm := $v.tls.certManager }}
{{- if and $v.tls.enabled $cm.enabled }}
{{- $fullname := include "cryptopay-sidecar.fullname" . }}
{{- $ns := .top.Release.Namespace }}
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {{ $fullname }}
  namespace: {{ $ns }}
  labels:
    {{- include "cryptopay-sidecar.labels" . | nindent 4 }}
spec:
  secretName: {{ include "cryptopay-sidecar.tlsSecret" . }}
  secretTemplate:
    labels:
      {{- include "cryptopay-sidecar.labels" . | nindent 6 }}
  issuerRef:
    name: {{ required "tls.certManager.issuerRef.name is required: the Issuer or ClusterIssuer that signs the sidecar's certificate" $cm.issuerRef.name }}
    kind: {{ $cm.issuerRef.kind }}
    group: {{ $cm.issuerRef.group }}
  duration: {{ $cm.duration }}
  renewBefore: {{ $cm.renewBefore }}
  {{- /* No commonName: clients check the SANs, and a CN is limited to 64 characters. */}}
  {{- if $cm.dnsNames }}
  dnsNames:
    {{- toYaml $cm.dnsNames | nindent 4 }}
  {{- else if eq $v.mode "gateway" }}
  dnsNames:
    - {{ $fullname }}
    - {{ printf "%s.%s" $fullname $ns }}
    - {{ printf "%s.%s.svc" $fullname $ns }}
    - {{ printf "%s.%s.svc.cluster.local" $fullname $ns }}
  {{- else }}
  dnsNames:
    - localhost
  ipAddresses:
    - 127.0.0.1
  {{- end }}
  privateKey:
    algorithm: ECDSA
    size: 256
    # A new key with every renewal.
    rotationPolicy: Always
  usages:
    - server auth
    - digital signature
{{- end }}
{{- end }}
