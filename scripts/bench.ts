// `npm run bench -- <name> [args…]` runs bench/<name>/main.ts with the project's Node. Each bench
// measures its own baseline in the same run and ends with one JSON line: {"bench":"<name>",…}.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const [name, ...rest] = process.argv.slice(2);
const available = readdirSync('bench', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
if (!name || !existsSync(`bench/${name}/main.ts`)) {
  console.error(`usage: npm run bench -- <name>   (available: ${available.join(', ') || 'none'})`);
  process.exit(2);
}
// NODE_EXTRA_CA_CERTS adds ~47 ms to every Node start on these machines; benches time starts.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
// `npm run bench -- fleet -- --nodes 1000` passes a `--` before the bench's flags: not one of them.
const args = rest[0] === '--' ? rest.slice(1) : rest;
const r = spawnSync(process.execPath, ['--expose-gc', `bench/${name}/main.ts`, ...args], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
