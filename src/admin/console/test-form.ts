import { BadRequest } from '../../errors.ts';
import type { ScriptName } from '../../connection/connection.ts';

export interface TestField {
  name: string;
  label: string;
  type: 'text' | 'password' | 'number' | 'json';
  hint?: string;
}

/** The Test form's fields for each script (GenAuth's Debug dialog), named `test_<argument>`. */
export const TEST_FIELDS: Record<ScriptName, TestField[]> = {
  login: [
    { name: 'test_identifier', label: 'Email, phone or username', type: 'text' },
    { name: 'test_password', label: 'Password', type: 'password' },
  ],
  getUser: [
    { name: 'test_query_id', label: 'query.id', type: 'text' },
    { name: 'test_query_email', label: 'query.email', type: 'text' },
    { name: 'test_query_username', label: 'query.username', type: 'text' },
    { name: 'test_query_phone', label: 'query.phone', type: 'text', hint: 'Fill in one of them.' },
  ],
  searchUser: [{ name: 'test_keyword', label: 'Keyword', type: 'text' }],
  createUser: [
    {
      name: 'test_userInfo',
      label: 'userInfo (JSON)',
      type: 'json',
      hint: '{ "email": "…", "username": "…", "phone": "…", "password": "…", "nickname": "…" }',
    },
  ],
  updateUser: [
    { name: 'test_id', label: 'id', type: 'text' },
    { name: 'test_updates', label: 'updates (JSON)', type: 'json', hint: '{ "nickname": "…" } and "password" in plain text when it changes' },
  ],
  deleteUser: [{ name: 'test_id', label: 'id', type: 'text' }],
  listUsers: [
    { name: 'test_page', label: 'page', type: 'number', hint: 'Starts at 1.' },
    { name: 'test_limit', label: 'limit', type: 'number' },
  ],
  validatePassword: [
    { name: 'test_id', label: 'id', type: 'text' },
    { name: 'test_password', label: 'Password', type: 'password' },
  ],
};

/** The tester's input from the submitted Test form. */
export function testInput(name: ScriptName, form: Record<string, string>): Record<string, unknown> {
  const text = (field: string) => form[field] ?? '';
  const optional = (field: string) => (form[field] ? form[field] : undefined);
  switch (name) {
    case 'login':
      return { identifier: text('test_identifier'), password: text('test_password') };
    case 'getUser':
      return {
        query: {
          id: optional('test_query_id'),
          email: optional('test_query_email'),
          username: optional('test_query_username'),
          phone: optional('test_query_phone'),
        },
      };
    case 'searchUser':
      return { keyword: text('test_keyword') };
    case 'createUser':
      return { userInfo: json(form, 'test_userInfo', 'userInfo') };
    case 'updateUser':
      return { id: text('test_id'), updates: json(form, 'test_updates', 'updates') };
    case 'deleteUser':
      return { id: text('test_id') };
    case 'listUsers':
      return { page: optional('test_page') ?? 1, limit: optional('test_limit') ?? 10 };
    case 'validatePassword':
      return { id: text('test_id'), password: text('test_password') };
  }
}

function json(form: Record<string, string>, field: string, what: string): unknown {
  const raw = (form[field] ?? '').trim() || '{}';
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new BadRequest(`${what} is not valid JSON: ${(error as Error).message}`, 'invalid_json', [{ path: what, message: 'not valid JSON' }]);
  }
}
