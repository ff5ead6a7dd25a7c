import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeKubernetesProtobuf, ProtobufDecodeError, supportedKinds } from '../../../src/server/protobuf/index.ts';
import { fixture, fixtureJson, fixtureNames } from '../../fixtures/kubectl-bodies/load.ts';

// Go prints zero metav1.Time as `creationTimestamp: null`; the decoder omits it, which the API treats alike.
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
  }
  return v;
}

// Hand-built envelopes exercise the wire format independently of the embedded definitions.
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const w = protobuf.Writer.create();
  const tm = protobuf.Writer.create().uint32(10).string(apiVersion).uint32(18).string(kind).finish();
  w.uint32(10).bytes(tm).uint32(18).bytes(raw).uint32(26).string('').uint32(34).string('');
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(w.finish())]);
}

describe('decodeKubernetesProtobuf on bodies captured from kubectl 1.32', () => {
  const typedCreates = fixtureNames('.expected.json').map((f) => f.replace('.expected.json', ''));

  it('has captured every typed create command', () => {
    expect(typedCreates).toEqual(expect.arrayContaining([
      'create-clusterrole', 'create-clusterrolebinding', 'create-configmap', 'create-cronjob', 'create-deployment',
      'create-job', 'create-namespace', 'create-role', 'create-rolebinding', 'create-secret-docker-registry',
      'create-secret-generic', 'create-secret-tls', 'create-service-clusterip', 'create-service-externalname',
      'create-service-nodeport', 'create-service-loadbalancer', 'create-serviceaccount', 'create-priorityclass',
      'create-quota', 'create-pdb', 'create-ingress', 'autoscale', 'create-job-from-cronjob',
    ]));
  });

  it.each(typedCreates)('%s decodes to the JSON kubectl --dry-run=client -o json prints', (name) => {
    const requests = fixtureJson<{ requests: { file: string; contentType: string }[] }>(`${name}.requests.json`).requests;
    expect(requests).toHaveLength(1);
    expect(requests[0]?.contentType).toBe('application/vnd.kubernetes.protobuf');
    const decoded = decodeKubernetesProtobuf(fixture(requests[0]?.file ?? ''));
    expect(decoded).toEqual(withoutNulls(fixtureJson(`${name}.expected.json`)));
  });

  it("decodes drain's protobuf DeleteOptions fallback", () => {
    expect(decodeKubernetesProtobuf(fixture('drain.2.pb'))).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 7 });
  });

  it('decodes create token (TokenRequest) with its int64 expiration', () => {
    const tr = decodeKubernetesProtobuf(fixture('create-token.pb'));
    expect(tr.kind).toBe('TokenRequest');
    expect(tr.spec).toEqual({ audiences: ['api'], expirationSeconds: 600 });
  });

  it('keeps Secret data as base64 and string values verbatim', () => {
    const s = decodeKubernetesProtobuf(fixture('create-secret-generic.pb'));
    expect(Buffer.from(String((s.data as Record<string, string>).password), 'base64').toString()).toBe('s3cr3t');
  });
});

describe('decodeKubernetesProtobuf wire details', () => {
  const meta = (fields: (w: protobuf.Writer) => void): Uint8Array => {
    const w = protobuf.Writer.create();
    fields(w);
    return w.finish();
  };

  it('keeps zero values of pointer fields and drops zero values of plain ones', () => {
    // Deployment{metadata{name:"z", generateName:""}, spec{replicas:0, minReadySeconds:0, paused:false}}
    const objectMeta = meta((w) => w.uint32(10).string('z').uint32(18).string(''));
    const spec = meta((w) => w.uint32(8).int32(0).uint32(40).int32(0).uint32(56).bool(false));
    const raw = meta((w) => w.uint32(10).bytes(objectMeta).uint32(18).bytes(spec));
    expect(decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', raw))).toEqual({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'z' }, spec: { replicas: 0 },
    });
  });

  it('turns Time into RFC 3339, IntOrString into number or string, Quantity into its string', () => {
    const time = meta((w) => w.uint32(8).int64(1_700_000_000));
    const objectMeta = meta((w) => w.uint32(10).string('t').uint32(66).bytes(time));
    const intStr = (s: string) => meta((w) => w.uint32(8).int64(1).uint32(26).string(s));
    const intNum = (n: number) => meta((w) => w.uint32(8).int64(0).uint32(16).int32(n));
    const rolling = meta((w) => w.uint32(10).bytes(intNum(0)).uint32(18).bytes(intStr('25%')));
    const strategy = meta((w) => w.uint32(10).string('RollingUpdate').uint32(18).bytes(rolling));
    const spec = meta((w) => w.uint32(34).bytes(strategy));
    const raw = meta((w) => w.uint32(10).bytes(objectMeta).uint32(18).bytes(spec));
    const d = decodeKubernetesProtobuf(envelope('apps/v1', 'Deployment', raw));
    expect(d.metadata).toEqual({ name: 't', creationTimestamp: '2023-11-14T22:13:20Z' });
    expect(d.spec).toEqual({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } } });
  });

  it('turns managedFields FieldsV1 bytes into the JSON they carry', () => {
    const fieldsV1 = meta((w) => w.uint32(10).bytes(Buffer.from('{"f:data":{"f:a":{}}}')));
    const time = meta((w) => w.uint32(8).int64(1_700_000_000));
    const entry = meta((w) => w.uint32(10).string('m').uint32(18).string('Update').uint32(26).string('v1').uint32(34).bytes(time).uint32(50).string('FieldsV1').uint32(58).bytes(fieldsV1));
    const objectMeta = meta((w) => w.uint32(10).string('c').uint32(138).bytes(entry));
    const cm = decodeKubernetesProtobuf(envelope('v1', 'ConfigMap', meta((w) => w.uint32(10).bytes(objectMeta))));
    expect(cm.metadata).toEqual({
      name: 'c',
      managedFields: [{ manager: 'm', operation: 'Update', apiVersion: 'v1', time: '2023-11-14T22:13:20Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }],
    });
  });

  it('flattens embedded structs such as LocalObjectReference into their parent', () => {
    // Pod{spec{containers[{name:"c", env[{name:"E", valueFrom{configMapKeyRef{localObjectReference{name:"cm"}, key:"k"}}}]}]}}
    const ref = meta((w) => w.uint32(10).string('cm'));
    const selector = meta((w) => w.uint32(10).bytes(ref).uint32(18).string('k'));
    const source = meta((w) => w.uint32(26).bytes(selector));
    const env = meta((w) => w.uint32(10).string('E').uint32(26).bytes(source));
    const container = meta((w) => w.uint32(10).string('c').uint32(58).bytes(env));
    const spec = meta((w) => w.uint32(18).bytes(container));
    const raw = meta((w) => w.uint32(18).bytes(spec));
    const pod = decodeKubernetesProtobuf(envelope('v1', 'Pod', raw));
    expect(pod.spec).toEqual({ containers: [{ name: 'c', env: [{ name: 'E', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }] }] });
  });

  it('answers 400 for a body without the k8s magic', () => {
    const err = catchError(() => decodeKubernetesProtobuf(Buffer.from('{"kind":"ConfigMap"}')));
    expect(err).toBeInstanceOf(ProtobufDecodeError);
    expect(err).toMatchObject({ status: 400, code: 'PROTOBUF_CORRUPT' });
    expect((err as Error).message).toMatch(/^the body of the request could not be decoded/);
  });

  it('answers 400 for truncated bytes', () => {
    const body = fixture('create-configmap.pb');
    const err = catchError(() => decodeKubernetesProtobuf(body.subarray(0, body.length - 7)));
    expect(err).toMatchObject({ status: 400, code: 'PROTOBUF_CORRUPT' });
  });

  it('answers 415 for a kind without definitions', () => {
    const err = catchError(() => decodeKubernetesProtobuf(envelope('example.com/v1', 'Widget', new Uint8Array())));
    expect(err).toMatchObject({ status: 415, code: 'PROTOBUF_UNSUPPORTED_KIND' });
    expect((err as Error).message).toContain('Widget');
  });

  it('decodes an empty object of every supported kind (all definitions resolve)', () => {
    expect(supportedKinds()).toEqual(expect.arrayContaining(['v1/ConfigMap', 'apps/v1/Deployment', 'v1/DeleteOptions']));
    for (const key of supportedKinds()) {
      const kind = key.slice(key.lastIndexOf('/') + 1);
      const apiVersion = key.slice(0, key.lastIndexOf('/'));
      expect(decodeKubernetesProtobuf(envelope(apiVersion, kind, new Uint8Array()))).toEqual({ apiVersion, kind });
    }
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
