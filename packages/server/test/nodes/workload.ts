/**
 * A workload as it would run on a machine with `signet node`: Microsoft's own @azure/identity,
 * unmodified, configured only by its standard environment variables (IDENTITY_ENDPOINT and
 * IDENTITY_HEADER for App Service; AZURE_POD_IDENTITY_AUTHORITY_HOST for IMDS). For each scope it
 * gets a token and calls the resource server; one JSON line per call on stdout.
 *
 * Arguments: <resource server url> <interval ms> <client id or "-"> <scope>...
 */
import { ManagedIdentityCredential } from '@azure/identity';

const [resourceServer, interval, clientId, ...scopes] = process.argv.slice(2);
const credential = clientId && clientId !== '-' ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
for (const scope of scopes) {
  const started = Date.now();
  try {
    const token = await credential.getToken(scope);
    const audience = scope.replace(/\/\.default$/, '');
    const response = await fetch(`${resourceServer}/orders?audience=${encodeURIComponent(audience)}`, { headers: { authorization: `Bearer ${token.token}` } });
    process.stdout.write(`${JSON.stringify({ scope, status: response.status, body: await response.json(), expiresOnTimestamp: token.expiresOnTimestamp, ms: Date.now() - started })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ scope, status: 0, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })}\n`);
  }
  await new Promise((resolve) => setTimeout(resolve, Number(interval)));
}
