// The client's ceiling: a bare Node ws server that streams BYTES of zeros to each client in 64 KiB binary
// messages, as fast as the socket takes them (pausing while more than 4 MiB is queued), then closes.
// Usage: node bench/ws-server.mjs PORT BYTES
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const total = Number(process.argv[3]);
const chunk = Buffer.alloc(64 * 1024);
const HIGH = 4 * 1024 * 1024;

const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
server.on('connection', (ws) => {
  let left = total;
  const pump = () => {
    while (left > 0 && ws.bufferedAmount < HIGH) {
      const n = Math.min(left, chunk.length);
      ws.send(n === chunk.length ? chunk : chunk.subarray(0, n), { binary: true });
      left -= n;
    }
    if (left > 0) {
      ws._socket.once('drain', pump);
    } else {
      ws.close(1000);
    }
  };
  pump();
});
