// The WebSocket client of bench/run's throughput, one-step latency and scale rows (Node's ws, from npm). With a
// subprotocol (execgate) each binary message starts with its Kubernetes channel byte and input goes on channel 0;
// without one (websocketd, the bare Node server) messages are the bytes themselves. Compression is never offered.
//
//   node bench/ws-client.mjs stream URL BYTES [PROTOCOL TOKEN]
//       counts payload bytes until BYTES have arrived; prints MB/s (10^6 bytes/s) from connect to the last byte
//   node bench/ws-client.mjs oneshot URL COUNT [PROTOCOL TOKEN]
//       COUNT times in a row: connect, expect "hi", wait for the close; prints each time in ms, one per line
//   node bench/ws-client.mjs scale URL SESSIONS [PROTOCOL TOKEN]
//       opens SESSIONS sessions to an echoing command (cat), printing "connected N" after 100 and after all and
//       waiting for a line on stdin each time (bench/run measures the service then); then sends "ping" through
//       every session at once (the first burst; then five untimed and ten timed ones, with "timed" and "timed end"
//       printed around the timed ones, each waiting for a line too), then through one session at a time; closes
//       every session and waits until each is closed; prints the round trips as JSON
import WebSocket from 'ws';
import { createInterface } from 'node:readline';

const [mode, url, countArg, protocol, token] = process.argv.slice(2);
const count = Number(countArg);
const options = { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024, headers: token ? { Authorization: `Bearer ${token}` } : {} };
const now = () => process.hrtime.bigint();
const ms = (from) => Number(now() - from) / 1e6;
const connect = () => (protocol ? new WebSocket(url, [protocol], options) : new WebSocket(url, options));
/** The output bytes of a message: channels 1 and 2 with a subprotocol, everything without. */
const payload = (data) => (protocol ? (data[0] === 1 || data[0] === 2 ? data.subarray(1) : data.subarray(0, 0)) : data);
const fail = (message) => {
  console.error(`ws-client ${mode} ${url}: ${message}`);
  process.exit(1);
};

async function stream() {
  const began = now();
  const ws = connect();
  let received = 0;
  await new Promise((resolve) => {
    ws.on('message', (data) => {
      received += payload(data).length;
      if (received >= count) resolve(); // the last byte is the end for every system
    });
    ws.on('close', resolve);
    ws.on('error', (error) => fail(error.message));
  });
  const seconds = ms(began) / 1000;
  ws.terminate();
  if (received !== count) fail(`${received} bytes, not ${count}`);
  console.log((received / 1e6 / seconds).toFixed(2));
}

async function oneshot() {
  for (let i = 0; i < count; i++) {
    const began = now();
    const ws = connect();
    let out = '';
    await new Promise((resolve) => {
      ws.on('message', (data) => { out += payload(data).toString(); });
      ws.on('close', resolve); // websocketd ends by closing the connection, execgate with status and close
      ws.on('error', (error) => fail(error.message));
    });
    const took = ms(began);
    if (out.trim() !== 'hi') fail(`said ${JSON.stringify(out)}`);
    console.log(took.toFixed(3));
  }
}

async function scale() {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const sessions = [];
  for (let i = 0; i < count; i++) {
    const ws = connect();
    await new Promise((resolve) => {
      ws.on('open', resolve);
      ws.on('error', (error) => fail(`session ${i}: ${error.message}`));
    });
    const session = { ws, got: '', sent: 0n, done: null };
    ws.on('message', (data) => {
      session.got += payload(data).toString();
      if (session.done && session.got.includes('ping')) {
        const done = session.done;
        session.done = null;
        done(ms(session.sent));
      }
    });
    ws.on('close', () => { if (session.done) fail(`session ${i} closed`); });
    sessions.push(session);
    if (sessions.length === 100 || sessions.length === count) {
      console.log(`connected ${sessions.length}`);
      await lines.next();
    }
  }
  const ping = (session) => new Promise((resolve) => {
    session.got = '';
    session.done = resolve;
    session.sent = now();
    session.ws.send(protocol ? Buffer.from('\x00ping\n') : 'ping');
  });
  const pause = () => new Promise((resolve) => setTimeout(resolve, 300));
  const first = await Promise.all(sessions.map(ping));
  // A service is measured as it runs, warm: five bursts untimed (the JIT is still at work on the first ones),
  // then ten timed
  const later = [];
  for (let burst = 0; burst < 15; burst++) {
    await pause();
    if (burst === 5) {
      console.log('timed'); // bench/run notes the server's CPU time here and after the last burst
      await lines.next();
    }
    const times = await Promise.all(sessions.map(ping));
    if (burst >= 5) later.push(...times);
  }
  console.log('timed end');
  await lines.next();
  await pause();
  const single = [];
  for (const session of sessions) {
    single.push(await ping(session));
  }
  const round = (times) => times.map((t) => Number(t.toFixed(3)));
  // Close every session and wait for each to be closed (the server's close frame, or ws's own 30 s close timeout),
  // so that bench/run knows this system is done with before it starts the next one's sessions
  await Promise.all(sessions.map((session) => new Promise((resolve) => {
    if (session.ws.readyState === WebSocket.CLOSED) {
      resolve();
      return;
    }
    session.ws.once('close', resolve);
    session.ws.close();
  })));
  console.log(JSON.stringify({ first: round(first), later: round(later), single: round(single) }));
}

const modes = { stream, oneshot, scale };
if (!modes[mode]) fail('mode must be stream, oneshot or scale');
await modes[mode]();
// stdout to a pipe is written asynchronously: exit only once all of it is out (the scale result is ~100 KB)
process.stdout.write('', () => process.exit(0));
