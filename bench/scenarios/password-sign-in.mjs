// Password sign-ins per second (issue 4): POST /{tenant}/login with a username and password, as a
// browser sends it (form body, CSRF cookie and token), answered by a 303 with a new session — each
// one an argon2id verification (OWASP parameters: 19 MiB, t=2), a session row and a durable audit
// event. Users have no second factor. Reference: Keycloak sizes password sign-ins at 15 per vCPU.
import { median } from '../lib/stats.mjs';
import { assertLoopback, parallel } from '../lib/http.mjs';
import { adminSession, startSignet } from '../lib/signet.mjs';

const USERS = 16;
const PASSWORD = (i) => `bench user ${i} passphrase`;

/** A cookie jar of one (name=value pairs from Set-Cookie). */
function cookiesOf(res, jar = new Map()) {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return jar;
}
const cookieHeader = (jar) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
const csrfIn = (html) => /name="csrf" value="([^"]+)"/.exec(html)?.[1];

/** Creates users through the admin API; each accepts an invitation (chooses its password) over HTTP. */
async function createUsers(server) {
  const admin = await adminSession(server);
  return parallel(Array.from({ length: USERS }, (_, i) => i), 4, async (i) => {
    const user = await admin.post('/tenants/default/principals', { kind: 'user', displayName: `Bench user ${i}`, username: `bench${i}` });
    const { url } = await admin.post(`/tenants/default/principals/${user.id}/invitations`, {});
    assertLoopback(url);
    const page = await fetch(url);
    const jar = cookiesOf(page);
    const csrf = csrfIn(await page.text());
    const token = new URL(url).searchParams.get('token');
    const res = await fetch(`${server.url}/default/invitation`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
      body: new URLSearchParams({ csrf, token, new_password: PASSWORD(i), confirm_password: PASSWORD(i) }),
    });
    await res.arrayBuffer();
    if (res.status !== 303) throw new Error(`invitation for bench${i}: ${res.status}`);
    return { username: `bench${i}`, password: PASSWORD(i) };
  });
}

/** One browser per user: its CSRF cookie and form token, from GET /login. */
async function browserFor(server, user) {
  const page = await fetch(`${server.url}/default/login`);
  const jar = cookiesOf(page);
  const csrf = csrfIn(await page.text());
  return { cookie: cookieHeader(jar), body: new URLSearchParams({ csrf, username: user.username, password: user.password }).toString() };
}

async function round(server, browsers, seconds, concurrency) {
  const latencies = [];
  let ok = 0;
  let bad = 0;
  const cpu0 = server.cpuSeconds();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    let i = w;
    while (performance.now() < end) {
      const b = browsers[i++ % browsers.length];
      const start = performance.now();
      const res = await fetch(`${server.url}/default/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: b.cookie }, body: b.body });
      await res.arrayBuffer();
      latencies.push(performance.now() - start);
      if (res.status === 303 && res.headers.get('location') === '/default/account') ok += 1;
      else bad += 1;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = server.cpuSeconds() - cpu0;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { signInsPerSecond: ok / elapsed, ok, bad, p50Ms: q(0.5), p99Ms: q(0.99), cpuMsPerSignIn: ok > 0 ? (cpu * 1000) / ok : NaN, serverCpuUtilisation: cpu / elapsed };
}

export async function passwordSignIn(ctx) {
  const server = await startSignet(ctx, { dataDir: ctx.tempDir('password-sign-in'), name: 'signet-sign-in' });
  try {
    const users = await createUsers(server);
    const browsers = await Promise.all(users.map((u) => browserFor(server, u)));
    const concurrency = 8;
    await round(server, browsers, 1, concurrency);
    const rounds = [];
    for (let r = 0; r < (ctx.quick ? 1 : 3); r++) {
      rounds.push(await round(server, browsers, ctx.quick ? 4 : 10, concurrency));
      const last = rounds.at(-1);
      ctx.log(`  round ${r + 1}: ${last.signInsPerSecond.toFixed(1)} sign-ins/s, p50 ${last.p50Ms.toFixed(0)} ms, p99 ${last.p99Ms.toFixed(0)} ms, ${last.cpuMsPerSignIn.toFixed(1)} ms server CPU each, ${last.bad} not 303`);
    }
    const bad = rounds.reduce((a, r) => a + r.bad, 0);
    if (bad > 0) throw new Error(`${bad} sign-ins did not end in a 303 to the account page`);
    return {
      users: USERS,
      concurrency,
      rounds,
      signInsPerSecond: median(rounds.map((r) => r.signInsPerSecond)),
      p50Ms: median(rounds.map((r) => r.p50Ms)),
      p99Ms: median(rounds.map((r) => r.p99Ms)),
      cpuMsPerSignIn: median(rounds.map((r) => r.cpuMsPerSignIn)),
    };
  } finally {
    await server.stop();
  }
}
