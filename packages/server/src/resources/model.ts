import { Type, type Static } from 'typebox';

export interface Permission {
  name: string;
  description: string;
}

export interface Resource {
  id: string;
  tenantId: string;
  /** The token audience and RFC 8707 `resource` value, e.g. `api://orders` or `https://orders.example`. */
  identifier: string;
  displayName: string;
  description: string | null;
  /** Delegated permissions (users consent to clients acting for them). */
  scopes: Permission[];
  /** Application permissions (granted to principals directly). */
  roles: Permission[];
  /** Built-in resources (the admin API) cannot be changed or deleted. */
  builtin: boolean;
  createdAt: number;
  updatedAt: number;
}

/** The admin API as a protected resource, present in every tenant. */
export const ADMIN_RESOURCE = 'urn:signet:admin';
/** Manage everything in the tenant the token was issued by. */
export const TENANT_ADMIN_ROLE = 'tenant.admin';
/** Read everything in the tenant the token was issued by. */
export const TENANT_READER_ROLE = 'tenant.reader';
/** Manage every tenant of the install; offered only by the default tenant's admin resource. */
export const INSTALL_ADMIN_ROLE = 'install.admin';
/** Read (list, stream, export) the audit trail of the tenant the token was issued by. */
export const AUDIT_READER_ROLE = 'audit.reader';

const PermissionName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' });
const PermissionSchema = Type.Object(
  { name: PermissionName, description: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);
const Permissions = Type.Array(PermissionSchema, { maxItems: 200 });
// An absolute URI without fragment (RFC 8707 §2); whitespace would break `scope` syntax.
const Identifier = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9+.-]*:[^\\s#]+$', maxLength: 500 });

export const CreateResourceBody = Type.Object(
  {
    identifier: Identifier,
    displayName: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    scopes: Type.Optional(Permissions),
    roles: Type.Optional(Permissions),
  },
  { additionalProperties: false },
);
export type CreateResourceBody = Static<typeof CreateResourceBody>;

export const UpdateResourceBody = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
    scopes: Type.Optional(Permissions),
    roles: Type.Optional(Permissions),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateResourceBody = Static<typeof UpdateResourceBody>;

export const ResourceView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  identifier: Type.String(),
  displayName: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  scopes: Type.Array(Type.Object({ name: Type.String(), description: Type.String() })),
  roles: Type.Array(Type.Object({ name: Type.String(), description: Type.String() })),
  builtin: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type ResourceView = Static<typeof ResourceView>;
