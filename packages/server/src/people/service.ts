import type { Deps } from '../context.js';
import { AccountService } from './account-service.js';
import { argon2Hasher, type PasswordHasher } from './passwords.js';
import { SignInChecks } from './signin-service.js';

/** People signing in: the checks sign-in runs, and changes to sign-in methods. */
export interface People {
  passwords: PasswordHasher;
  checks: SignInChecks;
  accounts: AccountService;
}

export function createPeople(deps: Deps, passwords: PasswordHasher = argon2Hasher()): People {
  return { passwords, checks: new SignInChecks(deps, passwords), accounts: new AccountService(deps, passwords) };
}
