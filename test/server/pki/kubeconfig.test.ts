import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { writeKubeconfig } from '../../../src/server/pki/kubeconfig.ts';

let tmp: string;
beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), 'edgeos-kc-'))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const pems = { caCertPem: 'CA PEM\n', clientCertPem: 'CERT PEM\n', clientKeyPem: 'KEY PEM\n' };

describe('writeKubeconfig', () => {
  it('writes one cluster/user/context named edgeos with embedded credentials, creating directories', () => {
    const file = join(tmp, 'a', 'b', 'kubeconfig.yaml');
    writeKubeconfig(file, { server: 'https://127.0.0.1:6443', ...pems }, 0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kc = parse(readFileSync(file, 'utf8'));
    expect(kc['current-context']).toBe('edgeos');
    expect(kc.contexts).toEqual([{ name: 'edgeos', context: { cluster: 'edgeos', user: 'edgeos' } }]);
    expect(kc.clusters[0].name).toBe('edgeos');
    expect(kc.clusters[0].cluster.server).toBe('https://127.0.0.1:6443');
    expect(Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe('CA PEM\n');
    expect(Buffer.from(kc.users[0].user['client-certificate-data'], 'base64').toString()).toBe('CERT PEM\n');
    expect(Buffer.from(kc.users[0].user['client-key-data'], 'base64').toString()).toBe('KEY PEM\n');
  });

  it('honours a requested mode and replaces an existing file', () => {
    const file = join(tmp, 'kc.yaml');
    writeKubeconfig(file, { server: 'https://a:1', ...pems }, 0o600);
    writeKubeconfig(file, { server: 'https://b:2', ...pems }, 0o644);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(parse(readFileSync(file, 'utf8')).clusters[0].cluster.server).toBe('https://b:2');
  });
});
