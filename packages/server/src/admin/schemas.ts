import { Type, type TSchema } from 'typebox';

/** Shared pieces of admin route schemas. */
export const ErrorBody = Type.Object(
  { code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) },
  { $id: 'Error', description: 'Every admin API error: a stable code and a human message' },
);

export const TenantParams = Type.Object({ tenant: Type.String({ minLength: 1, maxLength: 100, description: 'Tenant id or name' }) }, { additionalProperties: false });

export const PageQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), cursor: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);

export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/** Error responses every protected admin route may return. */
export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
};

export const NoContent = Type.Null({ description: 'No content' });
