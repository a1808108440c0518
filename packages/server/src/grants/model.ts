import { Type, type Static } from 'typebox';

/** An application permission: `principal` holds `role` on `resource`. */
export interface Grant {
  id: string;
  tenantId: string;
  principalId: string;
  resourceId: string;
  role: string;
  createdAt: number;
}

export const CreateGrantBody = Type.Object(
  {
    principal: Type.String({ minLength: 1, maxLength: 64, description: 'Principal id' }),
    resource: Type.String({ minLength: 1, maxLength: 500, description: 'Resource id or identifier' }),
    role: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);
export type CreateGrantBody = Static<typeof CreateGrantBody>;

export const ListGrantsQuery = Type.Object(
  {
    principal: Type.Optional(Type.String({ maxLength: 64 })),
    resource: Type.Optional(Type.String({ maxLength: 500 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ListGrantsQuery = Static<typeof ListGrantsQuery>;

export const GrantView = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  principal: Type.String(),
  resource: Type.String({ description: 'Resource id' }),
  resourceIdentifier: Type.String(),
  role: Type.String(),
  createdAt: Type.String(),
});
export type GrantView = Static<typeof GrantView>;
