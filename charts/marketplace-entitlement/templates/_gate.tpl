{{/*
Named templates of the entitlement gate. Each takes the parent chart's root context (`.`) unless it says otherwise,
and reads the values under `marketplace-entitlement:`. The contract with the image (paths, user, CLI) is fixed here;
what a seller may change is in values.yaml, and values.schema.json refuses everything else.
*/}}

{{/* The gate's values. */}}
{{- define "marketplace-entitlement.v" -}}
{{- toYaml (required "values: no `marketplace-entitlement:` key; add the library chart as a dependency named marketplace-entitlement (no alias)" (index .Values "marketplace-entitlement")) -}}
{{- end -}}

{{/* Names of the objects this chart renders, from the release name. */}}
{{- define "marketplace-entitlement.configName" -}}
{{- printf "%s-marketplace-entitlement-config" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "marketplace-entitlement.publicKeyName" -}}
{{- printf "%s-marketplace-public-key" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "marketplace-entitlement.serviceAccountName" -}}
{{- $v := include "marketplace-entitlement.v" . | fromYaml -}}
{{- default .Release.Name $v.serviceAccount.name -}}
{{- end -}}

{{/* The CLI in the image (and, for initContainer/runWrapper, copied into the app image: docs/deployment.md). */}}
{{- define "marketplace-entitlement.cli" -}}
["/opt/marketplace-entitlement/node", "--disable-sigusr1", "/opt/marketplace-entitlement/cli.cjs"]
{{- end -}}

{{/*
ServiceAccount with the IRSA role annotation (EKS: RegisterUsage, MeterUsage and CheckoutLicense accept IRSA
credentials only). Usage: {{ include "marketplace-entitlement.serviceAccount" . }}
*/}}
{{- define "marketplace-entitlement.serviceAccount" -}}
{{- $v := include "marketplace-entitlement.v" . | fromYaml -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "marketplace-entitlement.serviceAccountName" . }}
  labels:
    app.kubernetes.io/name: {{ include "marketplace-entitlement.serviceAccountName" . }}
  annotations:
    eks.amazonaws.com/role-arn: {{ required "marketplace-entitlement.serviceAccount.roleArn is required (IRSA role ARN)" $v.serviceAccount.roleArn | quote }}
    eks.amazonaws.com/sts-regional-endpoints: "true"
{{- end -}}

{{/*
The ConfigMaps the gate's containers read: the settings (envFrom) and, for an unsealed image, the public key
(mounted as a file). Usage: {{ include "marketplace-entitlement.configMaps" . }}
*/}}
{{- define "marketplace-entitlement.configMaps" -}}
{{- $v := include "marketplace-entitlement.v" . | fromYaml -}}
{{- $data := dict -}}
{{- if $v.productCode -}}
{{- $_ := set $data "MARKETPLACE_PRODUCT_CODE" $v.productCode -}}
{{- $_ := set $data "MARKETPLACE_PUBLIC_KEY_VERSION" (toString (int (default 1 $v.publicKeyVersion))) -}}
{{- end -}}
{{- with $v.pricing -}}
{{- if ne .model "hourly" }}{{ $_ := set $data "MARKETPLACE_PRICING" .model }}{{ end -}}
{{- if eq .model "custom" -}}
{{- $_ := set $data "MARKETPLACE_METER_DIMENSIONS" (join "," .meterDimensions) -}}
{{- else if eq .model "contract" -}}
{{- $_ := set $data "MARKETPLACE_PRODUCT_SKU" .productSku -}}
{{- $_ := set $data "MARKETPLACE_ENTITLEMENT" (include "marketplace-entitlement.entitlementList" .entitlements) -}}
{{- $_ := set $data "MARKETPLACE_CHECKOUT_TYPE" .checkoutType -}}
{{- /* Pinned, not a value: another issuer's fingerprint would accept a license the buyer issued themselves. */ -}}
{{- $_ := set $data "MARKETPLACE_KEY_FINGERPRINT" "aws:294406891311:AWS/Marketplace:issuer-fingerprint" -}}
{{- end -}}
{{- end -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "marketplace-entitlement.configName" . }}
data:
  {{- toYaml $data | nindent 2 }}
{{- if $v.productCode }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "marketplace-entitlement.publicKeyName" . }}
data:
  public-key.pem: {{ required "marketplace-entitlement.publicKey is required with productCode" $v.publicKey | quote }}
{{- end }}
{{- end -}}

{{/* contract: [{name, unit, value}] as NAME:UNIT[:VALUE],... (the CLI's --entitlement). Takes the list. */}}
{{- define "marketplace-entitlement.entitlementList" -}}
{{- $items := list -}}
{{- range . -}}
{{- $items = append $items (ternary (printf "%s:%s:%s" .name .unit (toString .value)) (printf "%s:%s" .name .unit) (hasKey . "value")) -}}
{{- end -}}
{{- join "," $items -}}
{{- end -}}

{{/* Pod-level security context (Pod Security Standard "restricted"). Usage: securityContext: {{ include ... | nindent 8 }} */}}
{{- define "marketplace-entitlement.podSecurityContext" -}}
runAsNonRoot: true
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Pod affinity: only nodes of the architectures in nodeArchitectures (the image index has amd64 and arm64).
Usage: affinity: {{ include "marketplace-entitlement.affinity" . | nindent 8 }}
*/}}
{{- define "marketplace-entitlement.affinity" -}}
{{- $v := include "marketplace-entitlement.v" . | fromYaml -}}
nodeAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
      - matchExpressions:
          - key: kubernetes.io/arch
            operator: In
            values: {{ toJson $v.nodeArchitectures }}
{{- end -}}

{{/* Container security context for every container of the pod: restricted, read-only root filesystem. */}}
{{- define "marketplace-entitlement.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* envFrom + env of every container that runs the CLI. `extra` adds env entries before POD_UID. */}}
{{- define "marketplace-entitlement.env" -}}
{{- $v := include "marketplace-entitlement.v" .context | fromYaml -}}
envFrom:
- configMapRef:
    name: {{ include "marketplace-entitlement.configName" .context }}
env:
{{- if $v.productCode }}
- name: MARKETPLACE_PUBLIC_KEY_FILE
  value: /etc/marketplace-entitlement/public-key.pem
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
- name: POD_UID
  valueFrom:
    fieldRef:
      fieldPath: metadata.uid
{{- end -}}

{{/* volumeMounts of a container that runs the CLI; `readOnly` for the entitlement directory. */}}
{{- define "marketplace-entitlement.volumeMounts" -}}
{{- $v := include "marketplace-entitlement.v" .context | fromYaml -}}
- name: entitlement
  mountPath: /var/run/marketplace-entitlement
  {{- if .readOnly }}
  readOnly: true
  {{- end }}
{{- if $v.productCode }}
- name: marketplace-public-key
  mountPath: /etc/marketplace-entitlement
  readOnly: true
{{- end }}
{{- if .spool }}
- name: usage-spool
  mountPath: /var/lib/marketplace-entitlement/usage
{{- end }}
{{- end -}}

{{/*
The pod's init containers for the mode: `register` (initContainer), `serve` as a native sidecar (nativeSidecar), or
none (runWrapper). Usage:
  initContainers:
    {{- include "marketplace-entitlement.initContainers" . | nindent 8 }}
*/}}
{{- define "marketplace-entitlement.initContainers" -}}
{{- $v := include "marketplace-entitlement.v" . | fromYaml -}}
{{- if eq $v.mode "initContainer" -}}
- name: marketplace-entitlement
  image: {{ printf "%s:%s" $v.image.repository $v.image.tag | quote }}
  {{- with $v.image.pullPolicy }}
  imagePullPolicy: {{ . }}
  {{- end }}
  args: ["register"]
  {{- include "marketplace-entitlement.env" (dict "context" .) | nindent 2 }}
  volumeMounts:
    {{- include "marketplace-entitlement.volumeMounts" (dict "context" .) | nindent 2 }}
  resources:
    {{- toYaml $v.resources.register | nindent 4 }}
  securityContext:
    runAsUser: 65532
    runAsGroup: 65532
    {{- include "marketplace-entitlement.containerSecurityContext" . | nindent 4 }}
{{- else if eq $v.mode "nativeSidecar" }}
{{- $port := int $v.sidecar.port -}}
- name: marketplace-entitlement
  image: {{ printf "%s:%s" $v.image.repository $v.image.tag | quote }}
  {{- with $v.image.pullPolicy }}
  imagePullPolicy: {{ . }}
  {{- end }}
  # A restartable init container: started before the app, kept running beside it.
  restartPolicy: Always
  args: ["serve", "--port", {{ $port | quote }}, "--host", {{ $v.sidecar.host | quote }}]
  ports:
  - name: entitlement
    containerPort: {{ $port }}
  {{- include "marketplace-entitlement.env" (dict "context" .) | nindent 2 }}
  volumeMounts:
    {{- include "marketplace-entitlement.volumeMounts" (dict "context" . "spool" (eq $v.pricing.model "custom")) | nindent 2 }}
  # Up to 30 minutes for the first registration (AWS: retry with back-off for up to 30 minutes).
  startupProbe:
    httpGet:
      path: /healthz
      port: {{ $port }}
    periodSeconds: 2
    timeoutSeconds: 2
    failureThreshold: 900
  readinessProbe:
    httpGet:
      path: /healthz
      port: {{ $port }}
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  resources:
    {{- toYaml $v.resources.serve | nindent 4 }}
  securityContext:
    runAsUser: 65532
    runAsGroup: 65532
    {{- include "marketplace-entitlement.containerSecurityContext" . | nindent 4 }}
{{- end }}
{{- end -}}

{{/*
Your app container, gated for the mode. Takes (dict "container" <your container as a dict> "context" $).
Every mode: the entitlement directory mounted read-only with MARKETPLACE_ENTITLEMENT_FILE set (an in-app check can
read it), and the restricted security context. initContainer: a readiness probe running `check` (the app image
carries the CLI). runWrapper: the same probe, the command becomes `run -- <your command and args>`, and the
directory is writable. nativeSidecar: no probe (the sidecar's own gates the pod). Usage:
  containers:
    - {{- include "marketplace-entitlement.appContainer" (dict "container" (include "my-app.container" . | fromYaml) "context" $) | nindent 10 }}
*/}}
{{- define "marketplace-entitlement.appContainer" -}}
{{- $v := include "marketplace-entitlement.v" .context | fromYaml -}}
{{- $c := deepCopy .container -}}
{{- if not $c.name }}{{ fail "marketplace-entitlement.appContainer: the container has no name" }}{{ end -}}
{{- $_ := set $c "securityContext" (mergeOverwrite (default dict $c.securityContext) (include "marketplace-entitlement.containerSecurityContext" . | fromYaml)) -}}
{{- $gate := include "marketplace-entitlement.env" (dict "context" .context "extra" (list (dict "name" "MARKETPLACE_ENTITLEMENT_FILE" "value" "/var/run/marketplace-entitlement/entitlement.jwt"))) | fromYaml -}}
{{- $_ := set $c "envFrom" (concat $gate.envFrom (default list $c.envFrom)) -}}
{{- $_ := set $c "env" (concat (default list $c.env) $gate.env) -}}
{{- $mounts := include "marketplace-entitlement.volumeMounts" (dict "context" .context "readOnly" (ne $v.mode "runWrapper")) | fromYamlArray -}}
{{- $_ := set $c "volumeMounts" (concat (default list $c.volumeMounts) $mounts) -}}
{{- if ne $v.mode "nativeSidecar" -}}
{{- if $c.readinessProbe }}{{ fail (printf "marketplace-entitlement.appContainer: container %s has a readinessProbe, but in mode %s the gate's `check` is the readiness probe; give your app a startupProbe instead, or use mode nativeSidecar" $c.name $v.mode) }}{{ end -}}
{{- $cli := include "marketplace-entitlement.cli" . | fromYamlArray -}}
{{- $_ := set $c "readinessProbe" (dict "exec" (dict "command" (append $cli "check")) "periodSeconds" 10 "timeoutSeconds" 5 "failureThreshold" 3) -}}
{{- if eq $v.mode "runWrapper" -}}
{{- if not $c.command }}{{ fail (printf "marketplace-entitlement.appContainer: mode runWrapper needs container %s's command (Kubernetes ignores the image's ENTRYPOINT and CMD once the wrapper sets command)" $c.name) }}{{ end -}}
{{- $_ := set $c "args" (concat $c.command (default list $c.args)) -}}
{{- $_ := set $c "command" (concat $cli (list "run" "--")) -}}
{{- end -}}
{{- end -}}
{{- toYaml $c -}}
{{- end -}}

{{/*
The pod's volumes: the in-memory entitlement directory, the public key (unsealed image), the usage spool (custom
pricing). Usage:
  volumes:
    {{- include "marketplace-entitlement.volumes" . | nindent 8 }}
*/}}
{{- define "marketplace-entitlement.volumes" -}}
{{- $v := include "marketplace-entitlement.v" . | fromYaml -}}
- name: entitlement
  emptyDir:
    medium: Memory
    sizeLimit: 1Mi
{{- if $v.productCode }}
- name: marketplace-public-key
  configMap:
    name: {{ include "marketplace-entitlement.publicKeyName" . }}
{{- end }}
{{- if eq $v.pricing.model "custom" }}
# Usage not yet sent survives a restart of the sidecar (serve --spool-dir).
- name: usage-spool
  emptyDir:
    sizeLimit: 16Mi
{{- end }}
{{- end -}}
