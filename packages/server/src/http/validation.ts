import { Ajv, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const common: Options = { allErrors: false, removeAdditional: false, useDefaults: false, strict: false, coerceTypes: false };
// JSON bodies are validated as sent: no coercion, unknown fields are errors (schemas say additionalProperties: false).
const bodyAjv = addFormats(new Ajv(common));
// Query strings and path parameters arrive as text; numbers are coerced, repeated parameters are not.
const textAjv = addFormats(new Ajv({ ...common, coerceTypes: true }));

/** Fastify validator compiler: strict for bodies, coercing only for text parts. */
export function compileValidator({ schema, httpPart }: { schema?: unknown; httpPart?: string }): ValidateFunction {
  const ajv = httpPart === 'body' ? bodyAjv : textAjv;
  return ajv.compile(schema as object);
}
