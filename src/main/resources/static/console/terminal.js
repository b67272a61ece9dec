// A terminal on one exec: the one-step WebSocket form with Kubernetes' v5.channel.k8s.io protocol, the token as
// the bearer subprotocol, a tty sized to the window, and flow control from the service to xterm.js.
import { Terminal } from './vendor/xterm/xterm.mjs';
import { FitAddon } from './vendor/addon-fit/addon-fit.mjs';
import { bearerProtocol, launched, token } from './session.js';

const V5 = 'v5.channel.k8s.io';
const STDIN = 0, STDOUT = 1, STDERR = 2, STATUS = 3, RESIZE = 4, CLOSE = 255;
// Output handed to xterm.js but not yet parsed. Above HIGH the page stops reading the socket; the service's
// sends then block, its relay stops reading the process's output, and the process waits: nothing is lost and
// the page stays responsive. Reading resumes below LOW.
const HIGH_WATERMARK = 512 * 1024;
const LOW_WATERMARK = 64 * 1024;

const params = new URLSearchParams(location.search);
const target = params.get('target') || 'host';
const command = params.getAll('command').length ? params.getAll('command') : ['sh'];
const status = document.getElementById('status');
document.getElementById('title').textContent = `${target}: ${command.join(' ')}`;
document.title = `${target} · execgate`;

// What a test (or a curious person) can read: the flow control at work.
const stats = { received: 0, pending: 0, maxPending: 0, paused: 0, transport: '', exitCode: null, closeCode: null,
  started: 'no' };
window.execgateTerminal = stats;

const term = new Terminal({ cursorBlink: true, scrollback: 5000, fontSize: 14,
  fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
  theme: { background: '#0b1020', foreground: '#e5e7eb' } });
const fit = new FitAddon();
term.loadAddon(fit);
stats.size = () => [term.rows, term.cols];
term.open(document.getElementById('screen'));
fit.fit();

function setStatus(text, kind) {
  status.textContent = text;
  status.className = `status ${kind ?? ''}`;
}

function streamPath() {
  if (target === 'host') return '/api/v1/host/exec';
  const [kind, ...rest] = target.split('/');
  const id = encodeURIComponent(rest.join('/'));
  if (kind === 'container') return `/api/v1/containers/${id}/exec`;
  if (kind === 'uvm') return `/api/v1/uvms/${id}/exec`;
  throw new Error(`unknown target ${target}`);
}

function streamUrl() {
  const query = new URLSearchParams();
  command.forEach((arg) => query.append('command', arg));
  query.set('stdin', 'true');
  query.set('stdout', 'true');
  query.set('tty', 'true');
  query.set('width', String(term.cols));
  query.set('height', String(term.rows));
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${streamPath()}?${query}`;
}

const encoder = new TextEncoder();
function frame(channel, bytes) {
  const message = new Uint8Array(bytes.length + 1);
  message[0] = channel;
  message.set(bytes, 1);
  return message;
}

let resume = null;
function written(length) {
  stats.pending -= length;
  if (resume && stats.pending < LOW_WATERMARK) {
    const go = resume;
    resume = null;
    go();
  }
}

/** One message from the service: output to xterm.js (counted until parsed), the exit status, or nothing else. */
function received(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length === 0) return;
  const channel = bytes[0];
  const payload = bytes.subarray(1);
  if (channel === STDOUT || channel === STDERR) {
    stats.received += payload.length;
    stats.pending += payload.length;
    stats.maxPending = Math.max(stats.maxPending, stats.pending);
    term.write(payload, () => written(payload.length));
  } else if (channel === STATUS) {
    exited(JSON.parse(new TextDecoder().decode(payload)));
  }
}

function exited(statusMessage) {
  let code = 0;
  if (statusMessage.status !== 'Success') {
    const cause = statusMessage.details?.causes?.find((c) => c.reason === 'ExitCode');
    code = cause ? Number(cause.message) : null;
  }
  stats.exitCode = code;
  const text = code === null ? `ended: ${statusMessage.message ?? statusMessage.reason}` : `exit code ${code}`;
  setStatus(text, code === 0 ? 'ok' : 'failed');
  term.write(`\r\n\x1b[2m[${text}]\x1b[0m\r\n`);
}

function closed(code, reason) {
  stats.closeCode = code;
  if (stats.exitCode === null) setStatus(code === 1000 ? 'closed' : `disconnected (${code}${reason ? ': ' + reason : ''})`, 'failed');
  term.options.disableStdin = true;
}

/** WebSocketStream reads only when asked: not asking above the high watermark is what pauses the service. */
async function connectStream(url, protocols) {
  const socket = new WebSocketStream(url, { protocols });
  const { readable, writable, protocol } = await socket.opened;
  if (protocol !== V5) throw new Error(`the service chose ${protocol || 'no protocol'}`);
  stats.transport = 'WebSocketStream';
  const writer = writable.getWriter();
  const send = (message) => writer.write(message).catch(() => { });
  socket.closed.then(({ closeCode, reason }) => closed(closeCode, reason), () => closed(1006, ''));
  wire(send);
  const reader = readable.getReader();
  for (;;) {
    if (stats.pending > HIGH_WATERMARK) {
      stats.paused++;
      await new Promise((go) => { resume = go; });
    }
    const { value, done } = await reader.read();
    if (done) return;
    received(typeof value === 'string' ? encoder.encode(value) : value);
  }
}

/** A plain WebSocket cannot stop reading; xterm.js's write callbacks still keep the count for the status line. */
function connectSocket(url, protocols) {
  const socket = new WebSocket(url, protocols);
  socket.binaryType = 'arraybuffer';
  stats.transport = 'WebSocket';
  socket.onopen = () => wire((message) => socket.readyState === WebSocket.OPEN && socket.send(message));
  socket.onmessage = (event) => received(event.data);
  socket.onclose = (event) => closed(event.code, event.reason);
}

function wire(send) {
  setStatus('connected', 'ok');
  term.onData((text) => send(frame(STDIN, encoder.encode(text))));
  term.onBinary((text) => send(frame(STDIN, Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff))));
  term.onResize(({ cols, rows }) => send(frame(RESIZE, encoder.encode(JSON.stringify({ Width: cols, Height: rows })))));
  new ResizeObserver(() => fit.fit()).observe(document.getElementById('screen'));
  window.execgateTerminal.closeStdin = () => send(new Uint8Array([CLOSE, STDIN]));
}

function start(bearer, how) {
  stats.started = how;
  setStatus('connecting');
  fit.fit(); // the question above the screen is gone: size the terminal before the size goes into the request
  term.focus();
  const protocols = [V5, bearerProtocol(bearer)];
  const url = streamUrl();
  (typeof WebSocketStream === 'function' ? connectStream(url, protocols) : Promise.resolve(connectSocket(url, protocols)))
    .catch((error) => {
      setStatus(`could not connect: ${error.message}`, 'failed');
      term.write(`\x1b[31mcould not connect: ${error.message}\x1b[0m\r\n`);
    });
}

/** An address alone (a link, a bookmark, another site sending this tab here) runs nothing until the user says so. */
function confirmFirst(bearer) {
  const panel = document.getElementById('confirm');
  document.getElementById('confirm-target').textContent = target;
  document.getElementById('confirm-command').textContent = command.map((arg) => JSON.stringify(arg)).join(' ');
  panel.hidden = false;
  setStatus('waiting for you to run it');
  stats.started = 'asked';
  const run = document.getElementById('confirm-run');
  run.addEventListener('click', () => {
    panel.hidden = true;
    start(bearer, 'confirmed');
  }, { once: true });
  run.focus();
}

const bearer = token();
if (!bearer) {
  location.replace('/');
} else if (launched(target, command)) {
  start(bearer, 'from the console');
} else {
  confirmFirst(bearer);
}
