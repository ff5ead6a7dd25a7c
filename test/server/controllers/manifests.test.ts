// The manifests folder of the real `edgeos server` (<data-dir>/server/manifests), driven by files
// and checked with kubectl: applied at start and on change, multi-document files, a `.skip` file,
// a bad file that gets one log line and one Event naming file and document while everything else
// goes on, kubectl's edits of other fields surviving a change, and removal (objects stay unless
// they opted in).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../helpers/kubectl.ts';
import { startServer } from '../../helpers/start-server.ts';
import type { RunningServer } from '../../helpers/start-server.ts';
import { waitFor } from './cluster.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeos-manifests-'));
const folder = join(dir, 'data', 'server', 'manifests');
let server: RunningServer;

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(server, args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} → ${r.code}\n${r.stderr}`);
  return r.stdout;
}
const get = (args: string[]) => kubectl(server, ['get', ...args]).then((r) => (r.code === 0 ? r.stdout : undefined));
const write = (name: string, content: string) => writeFileSync(join(folder, name), content);
/** The server's structured log lines about one file. */
const logLines = (file: string) =>
  server.output().split('\n').flatMap((l) => {
    try {
      const j = JSON.parse(l) as { file?: string; msg?: string; err?: string };
      return j.file === join(folder, file) ? [j] : [];
    } catch {
      return [];
    }
  });

const appYaml = (value: string) => `# two objects in one file
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations: { edgeos.io/delete-with-manifest: "true" }
data: { level: "${value}" }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: plain }
data: { from: manifest }
`;

beforeAll(async () => {
  mkdirSync(folder, { recursive: true });
  write('00-namespace.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: menu, namespace: shop }\ndata: { soup: "3" }\n');
  write('app.yaml', appYaml('1'));
  write('broken.yml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad\n  data: [1, 2\n');
  write('mixed.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-json' } }, { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' } }] }));
  write('off.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: off }\n');
  write('off.yaml.skip', '');
  server = await startServer({ dir });
}, 90_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the manifests folder', () => {
  it('applies every file at start, multi-document and JSON lists included, and tracks each as an Addon', async () => {
    await waitFor(() => get(['configmap', 'menu', '-n', 'shop']), 'the namespaced object of 00-namespace.yaml');
    await waitFor(() => get(['configmap', 'settings', 'plain', 'from-json']), 'the objects of app.yaml and mixed.json');
    // The server writes its own manifest beside the user's: the default StorageClass.
    expect(readFileSync(join(folder, 'local-storage.yaml'), 'utf8')).toContain('provisioner: edgeos.io/local-path');
    expect(await waitFor(() => get(['storageclass']), 'the StorageClass')).toMatch(/local-path \(default\)\s+edgeos\.io\/local-path\s+Delete\s+WaitForFirstConsumer/);
    const addons = await ok(['get', 'addons', '-n', 'kube-system', '-o', 'custom-columns=NAME:.metadata.name,SOURCE:.spec.source', '--no-headers']);
    expect(addons.trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['00-namespace', 'app', 'broken', 'local-storage', 'mixed']);
    expect(addons).toContain(join(folder, 'app.yaml'));
    // The object's manager is the folder's own.
    const managers = JSON.parse(await ok(['get', 'configmap', 'plain', '-o', 'json', '--show-managed-fields'])) as { metadata: { managedFields: { manager: string; operation: string }[] } };
    expect(managers.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'edgeos-manifests', operation: 'Apply' })]);
  });

  it('skips a file with a .skip beside it', async () => {
    expect((await kubectl(server, ['get', 'configmap', 'off'])).code).toBe(1);
  });

  it('gives a bad file one log line and one Event naming file and document, and applies the rest', async () => {
    const broken = logLines('broken.yml');
    expect(broken).toHaveLength(1);
    expect(broken[0]!.msg).toBe('manifest not applied');
    expect(broken[0]!.err).toBe(`Parse manifest at "${join(folder, 'broken.yml')}" failed: document 1: Implicit keys need to be on a single line at line 3, column 18`);
    const mixed = logLines('mixed.json').filter((l) => l.msg === 'manifest not applied');
    expect(mixed).toHaveLength(1);
    expect(mixed[0]!.err).toBe(`Applying manifest at "${join(folder, 'mixed.json')}" failed: document 1 (Gadget g): no matches for kind "Gadget" in version "example.com/v1"`);
    const events = await ok(['get', 'events', '-n', 'kube-system', '--field-selector', 'type=Warning', '-o', 'custom-columns=OBJ:.involvedObject.name,REASON:.reason,MSG:.message', '--no-headers']);
    expect(events).toMatch(/broken\s+ParseManifestFailed\s+Parse manifest at ".*broken\.yml" failed: document 1: /);
    expect(events).toMatch(/mixed\s+ApplyManifestFailed\s+Applying manifest at ".*mixed\.json" failed: document 1 \(Gadget g\)/);
    const readyz = await server.request('GET', '/readyz');
    expect(readyz.status).toBe(200);
  });

  it('applies a change and keeps what kubectl set on other fields', async () => {
    await ok(['label', 'configmap', 'settings', 'team=edge']);
    await ok(['patch', 'configmap', 'settings', '--type', 'merge', '-p', '{"data":{"extra":"by-hand"}}']);
    write('app.yaml', appYaml('2'));
    const data = await waitFor(async () => {
      const d = JSON.parse(await ok(['get', 'configmap', 'settings', '-o', 'json'])) as { metadata: { labels?: Record<string, string> }; data: Record<string, string> };
      return d.data.level === '2' ? d : undefined;
    }, 'the changed value');
    expect(data.data).toEqual({ level: '2', extra: 'by-hand' });
    expect(data.metadata.labels).toEqual({ team: 'edge' });
    // The unchanged bad files were looked at again on those passes, but not reported again.
    expect(logLines('broken.yml')).toHaveLength(1);
    expect(logLines('mixed.json').filter((l) => l.msg === 'manifest not applied')).toHaveLength(1);
  });

  it('ignores changes while a .skip is there, and applies the file once it goes', async () => {
    write('app.yaml.skip', '');
    write('app.yaml', appYaml('3'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await ok(['get', 'configmap', 'settings', '-o', 'jsonpath={.data.level}'])).toBe('2');
    unlinkSync(join(folder, 'app.yaml.skip'));
    await waitFor(async () => ((await ok(['get', 'configmap', 'settings', '-o', 'jsonpath={.data.level}'])) === '3' ? true : undefined), 'the value of the unskipped file');
  });

  it('applies a fixed file', async () => {
    write('broken.yml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: bad }\ndata: { fixed: "yes" }\n');
    expect(await waitFor(() => get(['configmap', 'bad', '-o', 'jsonpath={.data.fixed}']), 'the fixed file')).toBe('yes');
  });

  it('leaves the objects of a removed file, but for those that opted in', async () => {
    unlinkSync(join(folder, 'app.yaml'));
    await waitFor(async () => ((await kubectl(server, ['get', 'configmap', 'settings'])).code === 1 ? true : undefined), 'the opted-in object to go');
    expect(await ok(['get', 'configmap', 'plain', '-o', 'jsonpath={.data.from}'])).toBe('manifest');
    await waitFor(async () => ((await kubectl(server, ['get', 'addon', 'app', '-n', 'kube-system'])).code === 1 ? true : undefined), 'its Addon to go');
    const removal = logLines('app.yaml').find((l) => l.msg?.startsWith('manifest removed'));
    expect(removal?.msg).toBe('manifest removed: deleted the objects that opted in, the others stay');
    expect(existsSync(join(folder, 'local-storage.yaml'))).toBe(true);
  });
});
