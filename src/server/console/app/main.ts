// The console's entry: sign-in, the navigation and a router over the URL fragment (#/fleet,
// #/node/<name>, #/pool/<name>, #/workloads, #/add-device), so the server serves one page.
import { Api, forgetToken, storedToken, storeToken } from './api.ts';
import { h, replace } from './dom.ts';
import { fleetPage } from './page-fleet.ts';
import { nodePage } from './page-node.ts';
import { poolPage } from './page-pool.ts';
import { addDevicePage } from './page-add-device.ts';
import { workloadsPage } from './page-workloads.ts';
import type { Page } from './page.ts';


const pages: Record<string, { title: string; page: Page; nav?: string }> = {
  fleet: { title: 'Fleet', page: fleetPage, nav: 'Fleet' },
  workloads: { title: 'Workloads', page: workloadsPage, nav: 'Workloads' },
  'add-device': { title: 'Add a device', page: addDevicePage, nav: 'Add a device' },
  node: { title: 'Node', page: nodePage },
  pool: { title: 'Pool', page: poolPage },
};

let stopPage: (() => void) | undefined;
let api: Api | undefined;

function signOut(message?: string): void {
  forgetToken();
  api = undefined;
  location.hash = '#/sign-in';
  if (message) route(message);
}

function route(notice?: string): void {
  stopPage?.();
  stopPage = undefined;
  const main = document.getElementById('main')!;
  const nav = document.getElementById('nav')!;
  const who = document.getElementById('who')!;
  const [name = 'fleet', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const token = storedToken();
  if (!token || name === 'sign-in') {
    replace(nav);
    replace(who);
    document.title = 'Sign in · edgeos console';
    return signInPage(main, notice);
  }
  api ??= new Api(token);
  api.onUnauthorized = () => signOut('The server no longer accepts this token. Sign in again.');
  const entry = pages[name] ?? pages.fleet!;
  document.title = `${entry.title} · edgeos console`;
  replace(nav, ...Object.entries(pages).filter(([, p]) => p.nav).map(([k, p]) =>
    h('a', { href: `#/${k}`, 'aria-current': k === name ? 'page' : undefined }, p.nav!)));
  replace(who, h('span', { id: 'user' }, sessionStorage.getItem('edgeos.console.user') ?? ''), ' ',
    h('button', { type: 'button', class: 'link', onclick: () => signOut() }, 'Sign out'));
  replace(main);
  stopPage = entry.page({ api, main }, decodeURIComponent(rest.join('/')));
}

function signInPage(main: HTMLElement, notice?: string): void {
  const error = h('p', { id: 'sign-in-error', class: 'error', role: 'alert' }, notice ?? '');
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'token-help sign-in-error' });
  const form = h('form', { class: 'card sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in to edgeos'),
    h('label', { for: 'token' }, 'Bearer token'),
    input,
    h('p', { id: 'token-help', class: 'muted' }, 'A ServiceAccount token (kubectl create token <name> -n <namespace>) or another bearer token the server accepts. What you see and may do is what RBAC grants it. The token stays in this tab only.'),
    error,
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void signIn(input.value.trim(), error);
  });
  replace(main, form);
  input.focus();
}

async function signIn(token: string, error: HTMLElement): Promise<void> {
  if (!token) {
    error.textContent = 'A token is required: the console shows nothing without one.';
    return;
  }
  error.textContent = 'Checking…';
  try {
    // SelfSubjectReview (kubectl auth whoami) proves the token and names its user.
    const review = await new Api(token).post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    const user = review?.status?.userInfo?.username as string | undefined;
    if (!user || user === 'system:anonymous') throw new Error('the server does not know this token');
    storeToken(token);
    sessionStorage.setItem('edgeos.console.user', user);
    api = undefined;
    location.hash = '#/fleet';
    route();
  } catch (err) {
    const status = (err as { status?: number }).status;
    error.textContent = status === 401 ? 'The server refused this token.' : `Sign-in failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

addEventListener('hashchange', () => route());
if (document.readyState === 'loading') addEventListener('DOMContentLoaded', () => route());
else route();
