// A realistic pod as a Deployment's ReplicaSet would create it (~1 KB of JSON): labels, an owner
// annotation, one container with ports, env, resources, probes and a volume mount.
export function podJson(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { app: 'web', tier: 'frontend', 'pod-template-hash': '7c9f8b6d4f', release: 'stable' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-20T10:00:00Z', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102' },
    },
    spec: {
      containers: [{
        name: 'web',
        image: 'registry.example.com/team/web:1.27.3',
        imagePullPolicy: 'IfNotPresent',
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'metrics', containerPort: 9102, protocol: 'TCP' }],
        env: [
          { name: 'LOG_LEVEL', value: 'info' },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'UPSTREAM_URL', value: 'http://backend.default.svc.cluster.local:8080' },
        ],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
        livenessProbe: { httpGet: { path: '/livez', port: 8080 }, initialDelaySeconds: 15, periodSeconds: 20 },
        volumeMounts: [{ name: 'config', mountPath: '/etc/web', readOnly: true }],
      }],
      volumes: [{ name: 'config', configMap: { name: 'web-config' } }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
    },
  });
}
