// Small HTTP helpers for setup and probes (the load itself is autocannon, in another process).
import { createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** A free TCP port on the loopback interface. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export function form(params) {
  return new URLSearchParams(params).toString();
}

/** POSTs a form to a token endpoint; returns { status, body } (body parsed when JSON). */
export async function postForm(url, params, headers = {}) {
  assertLoopback(url);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: typeof params === 'string' ? params : form(params) });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

export async function getJson(url, headers = {}) {
  assertLoopback(url);
  const res = await fetch(url, { headers });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} → ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** The harness only ever talks to the loopback interface. */
export function assertLoopback(url) {
  const { hostname } = new URL(url);
  if (hostname !== LOOPBACK && hostname !== 'localhost' && hostname !== '[::1]') throw new Error(`refusing a non-loopback target: ${url}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function parallel(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
