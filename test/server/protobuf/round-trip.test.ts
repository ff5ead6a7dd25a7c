/**
 * Every served built-in kind accepts its body as protobuf (what typed clients like kubectl's
 * `create`, `auth can-i`, `autoscale` send) and stores exactly what the same object sent as JSON
 * gives. The samples exercise each kind's own fields with the wire types that need care: Time,
 * Quantity, IntOrString, maps, bytes, inline structs, int64, nested lists and JSON names.
 * A kind served without a sample here fails the first test: samples are per served kind, not a
 * list of the ones seen so far.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeKeyAndCsr } from '../../../src/common/link/node-csr.ts';
import { BUILTIN_KINDS } from '../../../src/server/kinds/builtin.ts';
import { isNone } from '../../../src/server/kinds/types.ts';
import { startInProcessApi } from '../../helpers/in-process-api.ts';
import type { InProcessApi } from '../../helpers/in-process-api.ts';
import { encodeKubernetesProtobuf } from './encode.ts';

type Json = Record<string, unknown>;

const podSpec = {
  containers: [{
    name: 'app', image: 'busybox:1', command: ['sh', '-c'], args: ['sleep 1'], workingDir: '/w',
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    env: [{ name: 'A', value: 'b' }, { name: 'NODE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
    volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
    readinessProbe: { httpGet: { path: '/', port: 'http', scheme: 'HTTP' }, periodSeconds: 3, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
  }],
  volumes: [{ name: 'data', emptyDir: { sizeLimit: '1Gi' } }, { name: 'cfg', configMap: { name: 'c', defaultMode: 420 } }],
  restartPolicy: 'Always', terminationGracePeriodSeconds: 5, dnsPolicy: 'ClusterFirst',
  nodeSelector: { site: 'a' }, tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
  schedulerName: 'default-scheduler', securityContext: { fsGroup: 2000 }, enableServiceLinks: true,
};
const template = { metadata: { labels: { app: 'web' } }, spec: podSpec };
const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] };
const meta = (name: string, extra: Json = {}): Json => ({ name, labels: { a: 'b' }, annotations: { note: 'x' }, ...extra });

/** One sample per served apiVersion/kind (the computed reviews are answered, not stored). */
async function samples(): Promise<Json[]> {
  const { csrPem } = await createNodeKeyAndCsr('rt');
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta('rt-ns'), spec: { finalizers: ['kubernetes'] } },
    { apiVersion: 'v1', kind: 'Node', metadata: meta('rt-node'), spec: { podCIDR: '10.1.0.0/24', unschedulable: true, taints: [{ key: 'k', value: 'v', effect: 'NoExecute', timeAdded: '2026-01-02T03:04:05Z' }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: meta('rt-pod'), spec: { ...podSpec, activeDeadlineSeconds: 3600 } },
    { apiVersion: 'v1', kind: 'Service', metadata: meta('rt-svc'), spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'n', port: 81, targetPort: 8081 }], type: 'ClusterIP', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } } },
    { apiVersion: 'v1', kind: 'Endpoints', metadata: meta('rt-ep'), subsets: [{ addresses: [{ ip: '10.0.0.1', targetRef: { kind: 'Pod', name: 'p', namespace: 'default' } }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }] },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('rt-cm'), data: { k: 'v' }, binaryData: { b: Buffer.from([0, 1, 2, 255]).toString('base64') }, immutable: false },
    { apiVersion: 'v1', kind: 'Secret', metadata: meta('rt-secret'), type: 'Opaque', data: { password: Buffer.from('s3cr3t').toString('base64') } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('rt-sa'), automountServiceAccountToken: false, imagePullSecrets: [{ name: 'reg' }] },
    { apiVersion: 'v1', kind: 'Event', metadata: meta('rt-ev'), involvedObject: { kind: 'Pod', name: 'p', namespace: 'default', uid: 'u1' }, reason: 'Started', message: 'hi', type: 'Normal', count: 3, firstTimestamp: '2026-01-02T03:04:05Z', lastTimestamp: '2026-01-02T03:05:05Z', source: { component: 'kubelet', host: 'n1' }, eventTime: '2026-01-02T03:04:05.123456Z', reportingComponent: 'kubelet', reportingInstance: 'n1', action: 'Start' },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta('rt-pvc'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local', volumeMode: 'Filesystem' } },
    { apiVersion: 'v1', kind: 'PersistentVolume', metadata: meta('rt-pv'), spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/tmp/pv', type: 'DirectoryOrCreate' }, persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'local', volumeMode: 'Filesystem' } },
    { apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('rt-quota'), spec: { hard: { pods: '10', 'requests.cpu': '2' }, scopes: ['NotTerminating'] } },
    { apiVersion: 'v1', kind: 'LimitRange', metadata: meta('rt-lr'), spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' }, max: { memory: '1Gi' } }] } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('rt-deploy'), spec: { replicas: 0, selector, template, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } }, revisionHistoryLimit: 3, progressDeadlineSeconds: 120, minReadySeconds: 2 } },
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('rt-rs'), spec: { replicas: 0, selector, template, minReadySeconds: 1 } },
    { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('rt-sts'), spec: { replicas: 0, selector, template, serviceName: 'rt', podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }], persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('rt-ds'), spec: { selector, template, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } } },
    { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: meta('rt-cr'), data: { spec: { template: { spec: { containers: [{ name: 'a', image: 'b' }] } } } }, revision: 4 },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('rt-job'), spec: { parallelism: 2, completions: 4, backoffLimit: 3, completionMode: 'Indexed', ttlSecondsAfterFinished: 100, suspend: true, template: { metadata: { labels: { job: 'rt' } }, spec: { ...podSpec, restartPolicy: 'Never' } } } },
    { apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta('rt-cj'), spec: { schedule: '*/5 * * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 60, suspend: false, successfulJobsHistoryLimit: 2, jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: 'OnFailure' } } } } } },
    { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta('rt-hpa2'), spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }], behavior: { scaleDown: { stabilizationWindowSeconds: 30, policies: [{ type: 'Pods', value: 1, periodSeconds: 10 }] } } } },
    { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: meta('rt-hpa1'), spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 4, targetCPUUtilizationPercentage: 60 } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta('rt-eps'), addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: meta('rt-ev2'), eventTime: '2026-01-02T03:04:05.000001Z', reportingController: 'edgeos.test/c', reportingInstance: 'i', action: 'Sync', reason: 'Synced', regarding: { kind: 'Pod', name: 'p', namespace: 'default' }, note: 'n', type: 'Warning' },
    { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: meta('rt-lease'), spec: { holderIdentity: 'me', leaseDurationSeconds: 40, renewTime: '2026-01-02T03:04:05.500000Z', leaseTransitions: 2 } },
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta('rt-pdb'), spec: { minAvailable: '50%', selector, unhealthyPodEvictionPolicy: 'AlwaysAllow' } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta('rt-ing'), spec: { ingressClassName: 'nginx', tls: [{ hosts: ['a.example'], secretName: 't' }], rules: [{ host: 'a.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: meta('rt-ic'), spec: { controller: 'example.com/ingress', parameters: { apiGroup: 'k8s.example.com', kind: 'P', name: 'p', scope: 'Cluster' } } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('rt-np'), spec: { podSelector: selector, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 'http', endPort: undefined }] }], egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] } },
    { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: meta('rt-sc'), provisioner: 'example.com/p', parameters: { a: 'b' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true },
    { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: meta('rt-pc'), value: 1000, description: 'd', preemptionPolicy: 'Never' },
    { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: meta('rt-rc'), handler: 'runc', overhead: { podFixed: { cpu: '10m' } }, scheduling: { nodeSelector: { a: 'b' } } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta('rt-role'), rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta('rt-rb'), subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'default' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'rt-role' } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta('rt-crole'), rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: meta('rt-crb'), subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'g' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rt-crole' } },
    { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: meta('rt-csr'), spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'example.com/s', usages: ['client auth'], expirationSeconds: 3600 } },
    { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: meta('widgets.rt.example.com'), spec: {
      group: 'rt.example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wg'] },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: {
        spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { size: { type: 'integer', minimum: 1, default: 3 }, tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' }, mode: { type: 'string', enum: ['a', 'b'] } }, required: ['size'] },
      } } }, additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }], subresources: { status: {}, scale: { specReplicasPath: '.spec.size', statusReplicasPath: '.status.size' } } }],
    } },
  ];
}

const REVIEWS: Json[] = [
  { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' } } },
  { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } },
  { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'alice', groups: ['g'], extra: { scopes: ['a', 'b'] }, nonResourceAttributes: { path: '/healthz', verb: 'get' } } },
  { apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', metadata: { namespace: 'default' }, spec: { user: 'alice', resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' } } },
  { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  { apiVersion: 'authentication.k8s.io/v1beta1', kind: 'SelfSubjectReview' },
  { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'not-a-token', audiences: ['api'] } },
];

const pathOf = (apiVersion: string, plural: string, namespaced: boolean): string =>
  `${apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`}${namespaced ? '/namespaces/default' : ''}/${plural}`;

function kindOf(apiVersion: string, kind: string) {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return BUILTIN_KINDS.find((k) => k.group === group && k.kind === kind);
}

/** What differs between two creations of the same object: identity, times, allocations. */
function comparable(obj: Json): Json {
  // The uid shows up in generated labels and selectors (a Job's controller-uid).
  const uid = String((obj.metadata as Json).uid);
  // …and the projected token volume has a random suffix (kube-api-access-xxxxx, from the ServiceAccount admission).
  const o = JSON.parse(JSON.stringify(obj).replaceAll(uid, 'UID').replace(/kube-api-access-[a-z0-9]{5}/g, 'kube-api-access-X')) as Json;
  const m = o.metadata as Json;
  for (const k of ['name', 'uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation']) delete m[k];
  const spec = o.spec as Json | undefined;
  if (spec) for (const k of ['clusterIP', 'clusterIPs']) delete spec[k];
  return o;
}

let api: InProcessApi;
let all: Json[];

beforeAll(async () => {
  api = await startInProcessApi();
  all = await samples();
});
afterAll(async () => api?.close());

describe('protobuf request bodies of every served built-in kind', () => {
  it('has a sample for every served version of every kind that has protobuf messages', () => {
    const served = BUILTIN_KINDS.filter((k) => !isNone(k.protobuf)).flatMap((k) => k.versions.map((v) => `${k.group ? `${k.group}/` : ''}${v}/${k.kind}`));
    const sampled = [...all, ...REVIEWS].map((s) => `${String(s.apiVersion)}/${String(s.kind)}`);
    expect(sampled.sort()).toEqual(served.sort());
  });

  it('stores the same object from a protobuf and a JSON body, for every kind', async () => {
    for (const sample of all) {
      const apiVersion = String(sample.apiVersion);
      const k = kindOf(apiVersion, String(sample.kind));
      if (!k) throw new Error(`no kind for ${apiVersion}/${String(sample.kind)}`);
      const path = pathOf(apiVersion, k.plural, k.namespaced);
      const name = String((sample.metadata as Json).name);
      const asJson = structuredClone(sample);
      const asPb = structuredClone(sample);
      (asPb.metadata as Json).name = k.kind === 'CustomResourceDefinition' ? `gadgets.rt.example.com` : `${name}-pb`;
      if (k.kind === 'CustomResourceDefinition') ((asPb.spec as Json).names as Json) = { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList', shortNames: ['gd'] };
      const j = await api.request('POST', path, { body: JSON.stringify(asJson), headers: { 'content-type': 'application/json' } });
      expect(j.status, `${apiVersion}/${k.kind} JSON: ${j.body}`).toBe(201);
      const p = await api.request('POST', path, { body: encodeKubernetesProtobuf(asPb), headers: { 'content-type': 'application/vnd.kubernetes.protobuf' } });
      expect(p.status, `${apiVersion}/${k.kind} protobuf: ${p.body}`).toBe(201);
      const got = async (n: string) => JSON.parse((await api.request('GET', `${path}/${n}`)).body) as Json;
      const fromJson = comparable(await got(name));
      // The name shows up elsewhere too (a Namespace's kubernetes.io/metadata.name label).
      const fromPb = comparable(JSON.parse(JSON.stringify(await got(String((asPb.metadata as Json).name))).replaceAll(`"${name}-pb"`, `"${name}"`)) as Json);
      if (k.kind === 'CustomResourceDefinition') {
        (fromPb.spec as Json).names = (fromJson.spec as Json).names;
        delete fromPb.status;
        delete fromJson.status;
      }
      expect(fromPb, `${apiVersion}/${k.kind}`).toEqual(fromJson);
    }
  });

  it('answers every review from a protobuf body as from a JSON body', async () => {
    for (const review of REVIEWS) {
      const apiVersion = String(review.apiVersion);
      const k = kindOf(apiVersion, String(review.kind));
      if (!k) throw new Error(`no kind for ${apiVersion}`);
      const path = pathOf(apiVersion, k.plural, k.namespaced);
      const j = await api.request('POST', path, { body: JSON.stringify(review), headers: { 'content-type': 'application/json' } });
      const p = await api.request('POST', path, { body: encodeKubernetesProtobuf(review), headers: { 'content-type': 'application/vnd.kubernetes.protobuf' } });
      expect(j.status, `${k.kind}: ${j.body}`).toBe(201);
      expect(p.status, `${k.kind}: ${p.body}`).toBe(201);
      expect(JSON.parse(p.body), k.kind).toEqual(JSON.parse(j.body));
    }
  });
});
