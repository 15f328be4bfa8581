// A process the detail tests control: it opens `FILES` (argv[2], default 3) read-only descriptors
// of its own executable, listens on TCP 127.0.0.1 and (when the host has IPv6) ::1, holds an
// established TCP connection to itself, binds UDP 127.0.0.1 and a Unix socket path, then prints
// one JSON line of what it holds. On stdin: `close-tcp` closes the IPv4 listener (answering
// `closed`, its connection closed too); end of input exits.
import { openSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const files = Number(process.argv[2] ?? 3);
for (let i = 0; i < files; i += 1) openSync(process.execPath, 'r');

const listen = (server, ...args) =>
  new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(...args, () => resolve(server.address()));
  });

const accepted = new Set();
const tcp = createServer((socket) => {
  accepted.add(socket);
  socket.on('error', () => {});
});
const tcpAddress = await listen(tcp, 0, '127.0.0.1');
const tcp6 = createServer();
const tcp6Address = await listen(tcp6, 0, '::1');
const client = connect(tcpAddress.port, '127.0.0.1');
await new Promise((resolve) => client.once('connect', resolve));
const udp = createSocket('udp4');
await new Promise((resolve) => udp.bind(0, '127.0.0.1', resolve));
const unixPath = join(tmpdir(), `ve-detail-${process.pid}.sock`);
const unix = createServer();
await listen(unix, unixPath);

process.stdout.write(
  `${JSON.stringify({
    pid: process.pid,
    files,
    tcp: tcpAddress.port,
    tcp6: tcp6Address?.port ?? null,
    client: client.localPort,
    udp: udp.address().port,
    unix: unixPath,
  })}\n`,
);

createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line !== 'close-tcp') return;
    client.destroy();
    for (const socket of accepted) socket.destroy();
    tcp.close(() => process.stdout.write('closed\n'));
  })
  .on('close', () => {
    unix.close();
    process.exit(0);
  });
