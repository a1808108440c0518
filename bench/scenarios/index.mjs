// The scenario registry. A scenario is `async (ctx) => result`, in its own file; its entry here
// names it, says which targets it feeds and how to render it (see lib/report.mjs). Add new ones
// here — `run.mjs --only <name>` picks any subset.
//
// Planned, to be added with their features (not run, not faked until then):
//   introspection (RFC 7662) · token exchange (RFC 8693, agents).
import { adminListLargeDirectory } from './admin-list-large-directory.mjs';
import { auditIngest } from './audit-ingest.mjs';
import { clientCredentialsPrivateKeyJwt } from './client-credentials-private-key-jwt.mjs';
import { clientCredentialsSecret } from './client-credentials-secret.mjs';
import { coldStart } from './cold-start.mjs';
import { federation } from './federation.mjs';
import { memoryLargeDirectory } from './memory-large-directory.mjs';
import { passwordSignIn } from './password-sign-in.mjs';

export const SCENARIOS = [
  { name: 'client-credentials-secret', title: 'Client credentials, client_secret_basic', run: clientCredentialsSecret },
  { name: 'client-credentials-private-key-jwt', title: 'Client credentials, private_key_jwt', run: clientCredentialsPrivateKeyJwt },
  { name: 'cold-start', title: 'Cold start to first token', run: coldStart },
  { name: 'memory-large-directory', title: 'Memory with a large directory', run: memoryLargeDirectory },
  { name: 'admin-list-large-directory', title: 'Admin API: list every principal', run: adminListLargeDirectory },
  { name: 'audit-ingest', title: 'Audit ingest', run: auditIngest },
  { name: 'password-sign-in', title: 'Password sign-ins', run: passwordSignIn },
  { name: 'federation', title: 'Workload identity federation, 1,000 federated credentials', run: federation },
];

export const PLANNED = ['introspection', 'token-exchange'];
