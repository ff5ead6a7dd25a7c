// The pods the pod-network tests talk to: a busybox web server that answers with the client's
// address, and the shell function the tests fetch with (shared by podnet.test.ts and podnet-sites).

/** A web server answering `/cgi-bin/ip` with the client's address and `/` with its hostname. */
export const WEB = [
  'mkdir -p /www/cgi-bin',
  'hostname > /www/index.html',
  'printf "#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho \\$REMOTE_ADDR\\n" > /www/cgi-bin/ip',
  'chmod +x /www/cgi-bin/ip',
  // 256 KiB: many full-size segments, which VXLAN would have to fragment with a wrong MTU.
  'dd if=/dev/zero of=/www/big bs=1024 count=256 2>/dev/null',
  'exec httpd -f -p 8080 -h /www',
].join(' && ');
export const GET = `get() { printf "GET $2 HTTP/1.0\\r\\n\\r\\n" | nc -w 5 "$1" "\${3:-8080}" | sed '1,/^\\r\\{0,1\\}$/d'; }; `;
/** busybox httpd listens on IPv6 and gives IPv4 clients as [::ffff:a.b.c.d]. */
export const v4 = (remoteAddr: string) => remoteAddr.trim().replace(/^\[::ffff:(.*)\]$/, '$1');
