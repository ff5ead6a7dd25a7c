// "Add a device": a join token made exactly as `edgeos token create` makes one (src/cli/token-command.ts),
// but in the browser with the signed-in token: the only privileged call is creating the bootstrap
// Secret in kube-system, which RBAC allows or refuses. The server addresses and the CA come from
// the join endpoints every device reads (/edgeos/v1/join-info, /cacerts); the CA's hash is the
// SHA-256 of its DER (WebCrypto). The token is shown once, with the one-line command to run on the device.
import { h, replace } from './dom.ts';
import type { Page } from './page.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(n: number): string {
  let out = '';
  // Rejection sampling keeps the characters uniform (256 is not a multiple of 36).
  while (out.length < n) for (const b of crypto.getRandomValues(new Uint8Array(n * 2))) if (b < 252 && out.length < n) out += ALPHABET[b % 36];
  return out;
}

async function caHash(pem: string): Promise<string> {
  const b64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der));
  return `sha256:${[...digest].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

const base64url = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export const addDevicePage: Page = ({ api, main }) => {
  const result = h('div', { id: 'join-result', 'aria-live': 'polite' });
  const description = h('input', { id: 'description', type: 'text', autocomplete: 'off', value: 'added from the console' });
  const pool = h('input', { id: 'pool', type: 'text', autocomplete: 'off', pattern: '[a-z0-9]([-a-z0-9.]*[a-z0-9])?' });
  const ttl = h('select', { id: 'ttl' }, h('option', { value: '3600' }, '1 hour'), h('option', { value: '86400', selected: true }, '24 hours'), h('option', { value: '604800' }, '7 days'));
  const form = h('form', { class: 'card', 'aria-labelledby': 'add-title' },
    h('h1', { id: 'add-title' }, 'Add a device'),
    h('p', { class: 'muted' }, 'Creates a join token (a bootstrap token Secret in kube-system) and gives the command to run on the device, where edgeos is installed.'),
    h('label', { for: 'description' }, 'Description'), description,
    h('label', { for: 'pool' }, 'Pool (optional)'), pool,
    h('label', { for: 'ttl' }, 'Valid for'), ttl,
    h('button', { type: 'submit' }, 'Create join token'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!pool.checkValidity()) {
      replace(result, h('p', { class: 'error', role: 'alert' }, 'A pool name is lower-case letters, digits, "-" and "."'));
      return;
    }
    void create();
  });
  replace(main, form, result);

  async function create(): Promise<void> {
    replace(result, h('p', {}, 'Creating…'));
    try {
      const [info, ca] = await Promise.all([
        api.get('/edgeos/v1/join-info'),
        fetch('/cacerts', { credentials: 'omit' }).then((r) => (r.ok ? r.text() : Promise.reject(new Error(`/cacerts: HTTP ${r.status}`)))),
      ]);
      const hash = await caHash(ca);
      let id = '';
      let secret = '';
      for (let attempt = 0; ; attempt++) {
        id = randomString(6);
        secret = randomString(16);
        const data: Record<string, string> = {
          'token-id': btoa(id),
          'token-secret': btoa(secret),
          'usage-bootstrap-authentication': btoa('true'),
          'auth-extra-groups': btoa('system:bootstrappers:edgeos:default-node-token'),
          expiration: btoa(rfc3339(new Date(Date.now() + Number(ttl.value) * 1000))),
        };
        if (description.value.trim()) data.description = btoa(String.fromCharCode(...new TextEncoder().encode(description.value.trim())));
        try {
          await api.post('/api/v1/namespaces/kube-system/secrets', {
            apiVersion: 'v1', kind: 'Secret', type: 'bootstrap.kubernetes.io/token',
            metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' }, data,
          });
          break;
        } catch (err) {
          // An id collision: draw again, as `edgeos token create` does.
          if ((err as { status?: number }).status !== 409 || attempt > 3) throw err;
        }
      }
      const token = `edgeos1.${base64url(JSON.stringify({ servers: info.servers, caHash: hash, token: `${id}.${secret}` }))}`;
      const command = `sudo edgeos join ${token}${pool.value ? ` --pool ${pool.value}` : ''}`;
      const out = h('textarea', { id: 'join-command', readonly: true, rows: 4, 'aria-label': 'Join command' });
      out.value = command;
      const copied = h('span', { class: 'muted', 'aria-live': 'polite' });
      replace(result, h('section', { class: 'card' },
        h('h2', {}, 'Run this on the device'),
        out,
        h('p', {}, h('button', { type: 'button', id: 'copy', onclick: () => {
          out.select();
          navigator.clipboard.writeText(command).then(() => (copied.textContent = 'Copied.'), () => (copied.textContent = 'Select the text and copy it.'));
        } }, 'Copy'), ' ', copied),
        h('p', { class: 'muted' }, `Token id ${id}; it expires in ${ttl.selectedOptions[0]?.textContent ?? ''}. Revoke it with: edgeos token delete ${id}. It is not shown again.`)));
    } catch (err) {
      const status = (err as { status?: number }).status;
      replace(result, h('p', { class: 'error', role: 'alert' }, status === 403
        ? 'Not allowed: your token may not create Secrets in kube-system (RBAC).'
        : `Could not create a join token: ${err instanceof Error ? err.message : String(err)}`));
    }
  }
  return () => {};
};
