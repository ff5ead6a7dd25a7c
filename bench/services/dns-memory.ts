// What the agent's DNS answer caches keep alive: the real createDnsServer (bundled, agent V8 flags,
// over 50 Services) in a child process is asked each of 150 questions once (A, AAAA and SRV of the
// 50 Service names), 5 ms apart, while the process also allocates small Buffers between them as
// the agent does (its CRI codec, log lines, link frames: here 20 small Buffer.from calls every
// millisecond). After two full GCs it reports the memory of its ArrayBuffers (Node's Buffers) and
// its RSS; a server with nothing asked is the baseline. Deterministic enough for any load.
//   node bench/services/dns-memory.ts
//   EDGEOS_DNS_SERVER_MODULE=<path to another build's dns-server.ts> compares another build.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundle } from '../../scripts/bundle.ts';
import { v8Flags } from '../../src/common/v8-flags.ts';
import { dnsServerScript } from './dns-fixture.ts';

const SERVICES = 50;
const moduleFile = resolve(process.env.EDGEOS_DNS_SERVER_MODULE ?? resolve(import.meta.dirname, '../../src/agent/dns/dns-server.ts'));

const SERVER = `${dnsServerScript(moduleFile, SERVICES)}
let sink = 0;
const other = setInterval(() => { for (let i = 0; i < 20; i++) sink += Buffer.from('{"level":30,"msg":"other work ' + i + '"}').length; }, 1);
dns.start(new AbortController().signal).then(() => {
  const rl = createInterface({ input: process.stdin });
  rl.on('close', () => { clearInterval(other); void dns.stop().then(() => process.exit(0)); });
  rl.on('line', () => {
    gc(); gc();
    const m = process.memoryUsage();
    console.log(JSON.stringify({ arrayBuffersKb: Math.round(m.arrayBuffers / 1024), rssMb: Math.round(m.rss / 1024 / 102.4) / 10, zone: dns.stats.zone }));
  });
  console.log(JSON.stringify({ port: dns.port }));
});
`;

function question(id: number, name: string, type: number): Buffer {
  const parts = [Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of name.split('.')) parts.push(Buffer.from([l.length]), Buffer.from(l));
  parts.push(Buffer.from([0, 0, type, 0, 1]));
  return Buffer.concat(parts);
}

const work = mkdtempSync(join(tmpdir(), 'eos-dns-mem-'));
try {
  writeFileSync(join(work, 'server.ts'), SERVER);
  await bundle({ entry: join(work, 'server.ts'), outfile: join(work, 'server.cjs'), minify: true, version: '0.0.0-bench' });
  const child = spawn(process.execPath, [...v8Flags.agent, '--expose-gc', join(work, 'server.cjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(((await lines.next()).value as string) ?? '{}') as Record<string, number>;
  const { port } = await next();
  const ask = async () => {
    child.stdin!.write('\n');
    return next();
  };
  const before = await ask();
  const client = createSocket('udp4');
  let answered = 0;
  client.on('message', () => answered++);
  let id = 0;
  for (let i = 0; i < SERVICES; i++) {
    for (const type of [1, 28, 33]) {
      const name = type === 33 ? `_http._tcp.svc-${i}.bench.svc.cluster.local` : `svc-${i}.bench.svc.cluster.local`;
      client.send(question(++id, name, type), port!, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  await new Promise((r) => setTimeout(r, 200));
  const after = await ask();
  client.close();
  child.stdin!.end();
  console.log(`${moduleFile}: ${id} questions (${answered} answered); ArrayBuffers ${before.arrayBuffersKb} → ${after.arrayBuffersKb} KB (+${after.arrayBuffersKb! - before.arrayBuffersKb!}), RSS ${before.rssMb} → ${after.rssMb} MB`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
