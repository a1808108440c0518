import { decodeJwt, errors as joseErrors, importJWK, jwtVerify, type JWK, type JWTHeaderParameters } from 'jose';
import type { Deps } from '../context.js';
import type { Tenant } from '../tenants/model.js';
import type { TenantService } from '../tenants/service.js';
import { SIGNING_ALGS } from '../config.js';
import { ACCESS_TOKEN_TYP, type AccessTokenClaims } from './access-token.js';

type VerificationKey = Awaited<ReturnType<typeof importJWK>>;

export class InvalidAccessToken extends Error {
  override name = 'InvalidAccessToken';
}

/** Tolerance for clocks of other Signet nodes (FAPI 2.0: accept `iat` up to 10 s ahead). */
const CLOCK_TOLERANCE_S = 10;

/**
 * Verifies access tokens that Signet itself issued, for Signet's own protected APIs.
 * The issuer decides the tenant, and only that tenant's keys are tried: a token of one tenant
 * never verifies in another.
 */
export class AccessTokenVerifier {
  private readonly imported = new Map<string, VerificationKey>();

  constructor(
    private readonly deps: Deps,
    private readonly tenants: TenantService,
  ) {}

  /** `audience` null: any audience (a subject token of a token exchange is not meant for Signet itself). */
  async verify(token: string, audience: string | null): Promise<{ tenant: Tenant; claims: AccessTokenClaims }> {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new InvalidAccessToken('the token is not a JWT');
    }
    const prefix = `${this.deps.config.publicUrl}/`;
    if (typeof iss !== 'string' || !iss.startsWith(prefix)) throw new InvalidAccessToken('the token was not issued by this Signet');
    const tenant = await this.tenants.activeByName(iss.slice(prefix.length));
    if (!tenant) throw new InvalidAccessToken('the issuing tenant does not exist or is disabled');

    try {
      const { payload } = await jwtVerify(token, (header: JWTHeaderParameters) => this.key(tenant.id, header), {
        issuer: iss,
        ...(audience === null ? {} : { audience }),
        typ: ACCESS_TOKEN_TYP,
        algorithms: [...SIGNING_ALGS],
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id', 'tid'],
        currentDate: new Date(this.deps.clock()),
      });
      if (payload.tid !== tenant.id) throw new InvalidAccessToken('the token names another tenant');
      return { tenant, claims: payload as unknown as AccessTokenClaims };
    } catch (error) {
      if (error instanceof InvalidAccessToken) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new InvalidAccessToken('the token has expired');
      if (error instanceof joseErrors.JOSEError) throw new InvalidAccessToken(`the token is invalid (${error.code})`);
      throw error;
    }
  }

  private async key(tenantId: string, header: JWTHeaderParameters): Promise<VerificationKey> {
    if (!header.kid) throw new InvalidAccessToken('the token names no key');
    const cacheKey = `${tenantId}/${header.kid}`;
    const hit = this.imported.get(cacheKey);
    if (hit) return hit;
    const jwk: JWK | undefined = await this.deps.keys.publicKey(tenantId, header.kid);
    if (!jwk || jwk.alg !== header.alg) throw new InvalidAccessToken('the token was signed with an unknown key');
    const key = await importJWK(jwk, jwk.alg);
    if (this.imported.size > 1000) this.imported.clear();
    this.imported.set(cacheKey, key);
    return key;
  }
}
