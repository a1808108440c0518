import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CliError, formatError, toCliError } from '../../src/cli/errors.js';
import { parsePermission } from '../../src/cli/options.js';
import { cell, column, renderRecord, renderTable } from '../../src/cli/output.js';

describe('table cells', () => {
  it('shows absent values as "-"', () => {
    assert.equal(cell(null), '-');
    assert.equal(cell(undefined), '-');
    assert.equal(cell(''), '-');
    assert.equal(cell([]), '-');
  });

  it('joins string lists and permission names', () => {
    assert.equal(cell(['u-1', 'u-2']), 'u-1, u-2');
    assert.equal(cell([{ name: 'read', description: 'Read' }, { name: 'write', description: 'Write' }]), 'read, write');
  });

  it('shows other objects as compact JSON', () => {
    assert.equal(cell({ ttl: 300 }), '{"ttl":300}');
    assert.equal(cell(false), 'false');
    assert.equal(cell(0), '0');
  });
});

describe('tables', () => {
  it('renders a list with the column headers, uncoloured', () => {
    const out = renderTable([{ id: 'a', n: 1 }], [column('id'), column('n', 'count')]);
    assert.equal(out, ['┌────┬───────┐', '│ id │ count │', '├────┼───────┤', '│ a  │ 1     │', '└────┴───────┘', ''].join('\n'));
  });

  it('renders a record as field/value rows in API order', () => {
    const out = renderRecord({ id: 'a', status: 'active' });
    assert.equal(out, ['┌────────┬────────┐', '│ id     │ a      │', '├────────┼────────┤', '│ status │ active │', '└────────┴────────┘', ''].join('\n'));
  });
});

describe('error lines', () => {
  it('is "error: <code>: <message>" on one line', () => {
    assert.equal(formatError(new CliError('not_found', 'tenant "x" was not found')), 'error: not_found: tenant "x" was not found\n');
    assert.equal(formatError(new CliError('conflict', 'line one\n  line two')), 'error: conflict: line one line two\n');
  });

  it('keeps only the message of unexpected errors (no stack)', () => {
    const error = toCliError(new TypeError('boom'));
    assert.equal(formatError(error), 'error: internal: boom\n');
    assert.equal(error.exitCode, 1);
  });
});

describe('role and scope arguments', () => {
  it('splits name:description at the first colon', () => {
    assert.deepEqual(parsePermission('orders.admin:Manage orders: all of them'), { name: 'orders.admin', description: 'Manage orders: all of them' });
  });

  it('accepts name=description for names that hold a colon', () => {
    assert.deepEqual(parsePermission('orders:read=Read orders'), { name: 'orders:read', description: 'Read orders' });
  });

  it('ignores "=" inside a description', () => {
    assert.deepEqual(parsePermission('read:Read a=b'), { name: 'read', description: 'Read a=b' });
  });

  it('uses the name as its own description when none is given', () => {
    assert.deepEqual(parsePermission('orders.read'), { name: 'orders.read', description: 'orders.read' });
  });
});
