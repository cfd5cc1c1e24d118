{{/* Your application container, before the gate is applied: replace with your own. */}}
{{- define "example-app.container" -}}
name: app
image: {{ printf "%s:%s" .Values.app.image.repository .Values.app.image.tag | quote }}
{{- with .Values.app.command }}
command: {{ toJson . }}
{{- end }}
{{- with .Values.app.args }}
args: {{ toJson . }}
{{- end }}
ports:
- name: http
  containerPort: {{ .Values.app.port }}
{{- with .Values.app.readinessProbe }}
readinessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
resources:
  {{- toYaml .Values.app.resources | nindent 2 }}
{{- end -}}
