// `npm test`'s static checks side by side: the type checks, the lint and the dependency check are
// single-threaded and independent, and one after another they left the second core idle for a
// minute or more before the test run. Each is its npm script as package.json defines it; its
// output is printed whole when it ends, not interleaved. Exits non-zero once all have ended if any
// failed, so the tests do not start.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const SCRIPTS = ['typecheck', 'lint', 'check:deps'];

function run(script: string): Promise<boolean> {
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn('npm', ['run', '--silent', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', (err) => {
      console.error(`✗ npm run ${script}: ${err.message}`);
      done(false);
    });
    child.on('close', (code) => {
      const s = ((performance.now() - t0) / 1000).toFixed(1);
      process.stdout.write(`${code === 0 ? '✓' : '✗'} npm run ${script}: ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${s} s\n${out}`);
      done(code === 0);
    });
  });
}

const results = await Promise.all(SCRIPTS.map(run));
if (results.some((ok) => !ok)) process.exit(1);
