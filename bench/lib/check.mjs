// Before measuring: every server must issue a verifiable token of the same shape for the same request.
import { decodeJwt, verifyJwt } from './jwt.mjs';
import { getJson, postForm } from './http.mjs';
import { BENCH_RESOURCE, BENCH_ROLE } from './signet.mjs';

/**
 * Gets one token from `server` with `headers`/`body`, verifies its signature against the server's
 * JWKS and returns the sorted header and claim names plus a list of problems (empty when fine).
 */
export async function probeToken(server, { headers, body }) {
  const res = await postForm(server.tokenEndpoint, body, headers);
  if (res.status !== 200) return { problems: [`${server.name}: token request → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`] };
  const token = res.body.access_token;
  const { header, payload } = decodeJwt(token);
  const jwks = await getJson(server.jwksUrl ?? `${server.url}/default/.well-known/jwks.json`);
  const problems = [];
  if (!verifyJwt(token, jwks)) problems.push(`${server.name}: signature does not verify against its JWKS`);
  if (header.alg !== 'ES256') problems.push(`${server.name}: alg ${header.alg}`);
  if (header.typ !== 'at+jwt') problems.push(`${server.name}: typ ${header.typ}`);
  if (payload.aud !== BENCH_RESOURCE && !(Array.isArray(payload.aud) && payload.aud.includes(BENCH_RESOURCE))) problems.push(`${server.name}: aud ${JSON.stringify(payload.aud)}`);
  if (JSON.stringify(payload.roles) !== JSON.stringify([BENCH_ROLE])) problems.push(`${server.name}: roles ${JSON.stringify(payload.roles)}`);
  return { headerNames: Object.keys(header).sort(), claimNames: Object.keys(payload).sort(), bytes: token.length, problems };
}

/** Compares the probes of several servers: same header and claim names. */
export function compareShapes(probes) {
  const entries = Object.entries(probes);
  const problems = entries.flatMap(([, p]) => p.problems);
  const [first, ...rest] = entries;
  for (const [name, p] of rest) {
    if (!p.claimNames || !first[1].claimNames) continue;
    if (p.claimNames.join() !== first[1].claimNames.join()) problems.push(`claims differ: ${first[0]} [${first[1].claimNames}] vs ${name} [${p.claimNames}]`);
    if (p.headerNames.join() !== first[1].headerNames.join()) problems.push(`JOSE headers differ: ${first[0]} [${first[1].headerNames}] vs ${name} [${p.headerNames}]`);
  }
  return { same: problems.length === 0, problems, probes };
}
