{{/* Names, labels and the checks every rendering passes. */}}

{{- define "gameday.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "gameday.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gameday.labels" -}}
{{ include "gameday.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "gameday.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* Paths inside the container: the home (runbooks/, schedules/) and, on SQLite, the data. */}}
{{- define "gameday.homePath" -}}/var/lib/gameday/home{{- end -}}
{{- define "gameday.dataPath" -}}/var/lib/gameday/data{{- end -}}

{{- define "gameday.sqlite" -}}
{{- if not .Values.database.existingSecret -}}true{{- end -}}
{{- end -}}

{{- define "gameday.runbooksConfigMap" -}}
{{- .Values.runbooks.existingConfigMap | default (printf "%s-runbooks" (include "gameday.fullname" .)) -}}
{{- end -}}
{{- define "gameday.schedulesConfigMap" -}}
{{- .Values.schedules.existingConfigMap | default (printf "%s-schedules" (include "gameday.fullname" .)) -}}
{{- end -}}

{{/*
The rules gameday needs in a namespace it may act on (see gameday/adapters/kubernetes):
read pods and their owners (owners.py follows ReplicaSet -> Deployment, Job -> CronJob),
evict pods, read PodDisruptionBudgets (`method: delete` checks them first); delete pods
only with allowDelete; Istio VirtualServices only with istio.enabled. No wildcard, no
Secret, nothing cluster-scoped.
*/}}
{{- define "gameday.targetRules" -}}
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["pods/eviction"]
  verbs: ["create"]
{{- if .Values.allowDelete }}
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["delete"]
{{- end }}
- apiGroups: ["apps"]
  resources: ["replicasets", "deployments", "statefulsets", "daemonsets"]
  verbs: ["get", "list"]
- apiGroups: ["batch"]
  resources: ["jobs", "cronjobs"]
  verbs: ["get", "list"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list"]
{{- if .Values.istio.enabled }}
- apiGroups: ["networking.istio.io"]
  resources: ["virtualservices"]
  verbs: ["get", "list", "patch", "update"]
{{- end }}
{{- end -}}

{{/* Refuse values that cannot work or would weaken a safety rule. */}}
{{- define "gameday.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.database.existingSecret) -}}
{{- fail (printf "replicas: %d needs PostgreSQL: set database.existingSecret to a Secret holding its URL (SQLite is one process, one replica)" (int .Values.replicas)) -}}
{{- end -}}
{{- if lt (int .Values.replicas) 1 -}}
{{- fail "replicas must be at least 1" -}}
{{- end -}}
{{- $protected := list "kube-system" "kube-public" "kube-node-lease" .Release.Namespace -}}
{{- range .Values.targetNamespaces -}}
{{- if has . $protected -}}
{{- fail (printf "targetNamespaces: %s is protected (kube-system, kube-public, kube-node-lease and the release namespace are never touched)" .) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.gitSync.enabled (not .Values.gitSync.repo) -}}
{{- fail "gitSync.enabled needs gitSync.repo" -}}
{{- end -}}
{{- if or (hasPrefix ".." (clean .Values.gitSync.subPath)) (isAbs .Values.gitSync.subPath) -}}
{{- fail "gitSync.subPath must stay inside the repository" -}}
{{- end -}}
{{- $managed := dict "GAMEDAY_LIVE" "live" "GAMEDAY_TARGET_NAMESPACES" "targetNamespaces" "GAMEDAY_NAMESPACE" "the release namespace" "GAMEDAY_POD_NAME" "the pod's name" "GAMEDAY_HOME" "runbooks, schedules or gitSync" "GAMEDAY_HOST" "the chart" "GAMEDAY_PORT" "the chart" "GAMEDAY_LEADER_ELECTION" "database.existingSecret" "GAMEDAY_SHUTDOWN_GRACE" "shutdownGrace" -}}
{{- range $key, $_ := .Values.config -}}
{{- if hasKey $managed $key -}}
{{- fail (printf "config.%s is set by the chart: use %s" $key (get $managed $key)) -}}
{{- end -}}
{{- if regexMatch "(?i)(TOKEN|SECRET|PASSWORD|DATABASE_URL)" $key -}}
{{- fail (printf "config.%s looks like a secret: put it in a Secret (slack.existingSecret, web.existingSecret, database.existingSecret)" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Every container: no privilege, nothing written outside its volumes, no capability. */}}
{{- define "gameday.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
