import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HTTPMethods } from 'fastify';
import { startAdmin, type Admin } from './helpers.js';

interface Operation {
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
}
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

/** Every admin route, as the OpenAPI document names it. */
const ROUTES = [
  'POST /tenants',
  'GET /tenants',
  'GET /tenants/{tenant}',
  'PATCH /tenants/{tenant}',
  'POST /tenants/{tenant}/disable',
  'POST /tenants/{tenant}/enable',
  'POST /tenants/{tenant}/principals',
  'GET /tenants/{tenant}/principals',
  'GET /tenants/{tenant}/principals/{id}',
  'PATCH /tenants/{tenant}/principals/{id}',
  'DELETE /tenants/{tenant}/principals/{id}',
  'POST /tenants/{tenant}/principals/{id}/disable',
  'POST /tenants/{tenant}/principals/{id}/enable',
  'POST /tenants/{tenant}/principals/{id}/credentials',
  'GET /tenants/{tenant}/principals/{id}/credentials',
  'DELETE /tenants/{tenant}/principals/{id}/credentials/{credentialId}',
  'POST /tenants/{tenant}/resources',
  'GET /tenants/{tenant}/resources',
  'GET /tenants/{tenant}/resources/{resource}',
  'PATCH /tenants/{tenant}/resources/{resource}',
  'DELETE /tenants/{tenant}/resources/{resource}',
  'POST /tenants/{tenant}/grants',
  'GET /tenants/{tenant}/grants',
  'GET /tenants/{tenant}/grants/{id}',
  'DELETE /tenants/{tenant}/grants/{id}',
  'GET /tenants/{tenant}/keys',
  'POST /tenants/{tenant}/keys/rotate',
];

/** Every object schema reachable from `schema` (through properties, items and combinators). */
function objectSchemas(schema: JsonSchema | undefined, at: string, out: { at: string; schema: JsonSchema }[] = []): { at: string; schema: JsonSchema }[] {
  if (!schema || typeof schema !== 'object') return out;
  if (schema.type === 'object' || schema.properties) out.push({ at, schema });
  for (const [name, child] of Object.entries(schema.properties ?? {})) objectSchemas(child, `${at}.${name}`, out);
  objectSchemas(schema.items, `${at}[]`, out);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) (schema[key] ?? []).forEach((child, i) => objectSchemas(child, `${at}/${key}/${i}`, out));
  return out;
}

describe('admin API: OpenAPI document', () => {
  let a: Admin;
  let doc: OpenApiDocument;
  before(async () => {
    a = await startAdmin();
    const res = await fetch(`${a.s.adminApi}/openapi.json`);
    assert.equal(res.status, 200, 'the document is public');
    doc = (await res.json()) as OpenApiDocument;
  });
  after(() => a.close());

  it('is OpenAPI 3.1', () => {
    assert.equal(doc.openapi, '3.1.0');
  });

  it('lists every admin route', () => {
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    const missing = ROUTES.filter((r) => !documented.has(r));
    assert.deepEqual(missing, []);
  });

  it('documents only routes that exist', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) {
        const url = `/admin/v1${path.replace(/\{(\w+)\}/g, ':$1')}`;
        assert.ok(a.s.signet.app.hasRoute({ method: method.toUpperCase() as HTTPMethods, url }), `${method.toUpperCase()} ${url}`);
      }
    }
  });

  it('every request body refuses unknown properties (additionalProperties: false), nested objects included', () => {
    let bodies = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const schema = op.requestBody?.content?.['application/json']?.schema;
        if (!schema) continue;
        bodies += 1;
        const objects = objectSchemas(schema, `${method.toUpperCase()} ${path}`);
        assert.ok(objects.length > 0);
        for (const { at, schema: object } of objects) {
          // Open maps (a JWK) say so explicitly with a schema for their values.
          if (typeof object.additionalProperties === 'object') continue;
          assert.equal(object.additionalProperties, false, at);
        }
      }
    }
    assert.ok(bodies >= 8, `only ${bodies} request bodies documented`);
  });

  it('every operation documents its success response and the admin error responses', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const codes = Object.keys(op.responses ?? {});
        assert.ok(codes.some((c) => c.startsWith('2')), `${method} ${path} has no 2xx response`);
        for (const c of ['400', '401', '403', '404']) assert.ok(codes.includes(c), `${method} ${path} lacks ${c}`);
      }
    }
  });
});
