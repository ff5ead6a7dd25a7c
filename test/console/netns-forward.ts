// Runs inside the browser's network namespace (test/console/browser.ts): accepts TCP on
// 127.0.0.1:<port> there and forwards each connection to a Unix socket, which the test process
// (in the host's namespace) forwards to the server. Prints "listening" once ready.
import { connect, createServer } from 'node:net';

const [socketPath, port] = process.argv.slice(2);
if (!socketPath || !port) throw new Error('usage: netns-forward.ts <unix socket> <port>');
createServer((c) => {
  const s = connect(socketPath);
  c.pipe(s).pipe(c);
  c.on('error', () => s.destroy());
  s.on('error', () => c.destroy());
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
