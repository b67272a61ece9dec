// The console: sign in with a token, then the host, its containers and UVMs, and the recent execs (refreshed).
import { api, el, launch, signIn, signOut, token } from './session.js';

const REFRESH_MILLIS = 2000;
let timer = null;

const $ = (id) => document.getElementById(id);

function terminalLink(target) {
  const shell = target === 'host' ? 'bash' : 'sh';
  const query = new URLSearchParams({ target, command: shell });
  const link = el('a', { class: 'button small', href: `/terminal.html?${query}` }, 'Open terminal');
  link.addEventListener('click', () => launch(target, [shell]));
  return link;
}

function state(value) {
  return el('span', { class: `state state-${value}` }, value);
}

function fill(tbody, rows, note, empty) {
  tbody.replaceChildren(...rows);
  note.hidden = rows.length > 0;
  note.textContent = rows.length > 0 ? '' : empty;
}

async function showHost() {
  const host = await api('/api/v1/host');
  $('host-facts').replaceChildren(
    el('dt', {}, 'Id'), el('dd', {}, host.id),
    el('dt', {}, 'System'), el('dd', {}, `${host.os}/${host.arch}`));
  $('backends').replaceChildren(...host.backends.map((b) =>
    el('li', { class: b.available ? 'up' : 'down', title: b.detail ?? '' },
      el('strong', {}, `${b.name}`), ` ${b.kind}: ${b.available ? 'available' : 'unavailable'}`)));
  const link = $('host-terminal');
  const query = new URLSearchParams({ target: 'host', command: 'bash' });
  link.href = `/terminal.html?${query}`;
  link.onclick = () => launch('host', ['bash']);
  link.hidden = !host.backends.some((b) => b.kind === 'host' && b.available);
}

async function showTargets(kind, path) {
  const tbody = document.querySelector(`#${kind} tbody`);
  const note = $(`${kind}-note`);
  try {
    const targets = await api(path);
    $(`${kind}-count`).textContent = `${targets.length}`;
    fill(tbody, targets.map((t) => el('tr', { 'data-id': t.id },
      el('td', { class: 'mono' }, t.id),
      el('td', {}, t.runtime ?? ''),
      el('td', {}, state(t.state)),
      ...(kind === 'containers' ? [el('td', { class: 'mono' }, t.pid ?? '')] : []),
      el('td', { class: 'actions' }, t.state === 'running'
        ? terminalLink(`${kind === 'containers' ? 'container' : 'uvm'}/${t.id}`) : ''))),
    note, kind === 'containers' ? 'No containers.' : 'No utility VMs.');
  } catch (error) {
    fill(tbody, [], note, error.status === 503 ? 'No backend serves these here.' : error.message);
  }
}

async function showExecs() {
  const execs = await api('/api/v1/execs?limit=20');
  fill(document.querySelector('#execs tbody'), execs.map((e) => el('tr', { 'data-id': e.id },
    el('td', { class: 'mono' }, e.id),
    el('td', {}, e.target.kind === 'host' ? 'host' : `${e.target.kind}/${e.target.id}`),
    el('td', { class: 'mono command', title: e.command.join(' ') }, e.command.join(' ')),
    el('td', {}, state(e.state)),
    el('td', { class: 'mono exit-code' }, e.exitCode ?? (e.signal ? e.signal : '')),
    el('td', {}, new Date(e.createdAt).toLocaleTimeString()))),
  $('execs-note'), 'No execs yet.');
  $('execs-updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
}

async function refresh() {
  try {
    await Promise.all([showTargets('containers', '/api/v1/containers'), showTargets('uvms', '/api/v1/uvms'),
      showExecs()]);
  } catch (error) {
    if (error.status === 401) return showSignIn('Your token was not accepted any more; sign in again.');
  }
  timer = setTimeout(refresh, REFRESH_MILLIS);
}

function showSignIn(message) {
  clearTimeout(timer);
  signOut();
  $('console').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').hidden = !message;
  $('sign-in-error').textContent = message ?? '';
  $('token').focus();
}

async function showConsole() {
  $('sign-in').hidden = true;
  $('console').hidden = false;
  $('sign-out').hidden = false;
  await showHost();
  await refresh();
}

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const value = $('token').value.trim();
  try {
    await api('/api/v1/host', { bearer: value });
  } catch (error) {
    $('sign-in-error').hidden = false;
    $('sign-in-error').textContent = error.status === 401 ? 'That token is not accepted.' : error.message;
    return;
  }
  $('token').value = '';
  signIn(value);
  showConsole();
});

$('sign-out').addEventListener('click', () => showSignIn());

if (token()) {
  showConsole().catch((error) => showSignIn(error.status === 401 ? 'Sign in again.' : error.message));
} else {
  showSignIn();
}
