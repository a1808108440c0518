// CPU speed check: the median cost of an ES256 signature (node:crypto) over a few batches.
// The benchmark box is a VM whose CPU speed varies with its neighbours; this number lets runs be
// compared (≈ 28 µs on a quiet box of the reference machine).
import { generateKeyPairSync, sign } from 'node:crypto';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const data = Buffer.alloc(500, 120);
const batches = [];
for (let b = 0; b < 7; b++) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < 300; i++) sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  batches.push(Number(process.hrtime.bigint() - t) / 300 / 1000);
}
batches.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ es256SignUs: batches[3] }));
