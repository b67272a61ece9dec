// The signed-in token, kept in this tab's session storage (gone when the tab closes), never in a URL.
const KEY = 'execgate.token';

export function token() {
  return sessionStorage.getItem(KEY);
}

export function signIn(value) {
  sessionStorage.setItem(KEY, value);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

// The terminal the user just asked for in the console. The terminal page starts a command without asking only
// when it finds it here: its address alone is not enough, since any site can send this tab to an address.
const LAUNCH = 'execgate.launch';
const LAUNCH_MILLIS = 30_000;

/** Called when the user clicks a console link to a terminal, before the browser follows it. */
export function launch(target, command) {
  sessionStorage.setItem(LAUNCH, JSON.stringify({ target, command, at: Date.now() }));
}

/** True, once, when the console asked for exactly this terminal in the last half minute. */
export function launched(target, command) {
  const asked = sessionStorage.getItem(LAUNCH);
  sessionStorage.removeItem(LAUNCH);
  try {
    const { target: t, command: c, at } = JSON.parse(asked ?? 'null') ?? {};
    return t === target && JSON.stringify(c) === JSON.stringify(command) && Date.now() - at < LAUNCH_MILLIS;
  } catch {
    return false;
  }
}

/** An API error: the problem document's title, detail and code when the service sent one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code;
  }
}

/** GET or POST against the API with the token; the parsed JSON body, or an ApiError. */
export async function api(path, { method = 'GET', body, bearer = token() } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

/** The WebSocket subprotocol that carries a bearer token, as Kubernetes defines it (base64url, no padding). */
export function bearerProtocol(value) {
  const bytes = new TextEncoder().encode(value);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return 'base64url.bearer.authorization.k8s.io.' + btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Text for the page, safely: every value goes through textContent, never innerHTML. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('data-')) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
