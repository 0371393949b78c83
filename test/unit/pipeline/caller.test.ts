import { type Caller, callerOf, OPERATOR_ROLE } from '../../../lib/pipeline/caller';
import { RunsApiError } from '../../../lib/pipeline/runsQuery';

const OID = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
const ROLE_TYP = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
const AZURE = { mode: 'azure', easyAuthEnabled: true } as const;

/** The `x-ms-client-principal` header App Service authentication sets for an Entra ID caller. */
function principal(roles: string[], overrides: Record<string, unknown> = {}): string {
  const body = {
    auth_typ: 'aad',
    name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
    role_typ: ROLE_TYP,
    claims: [
      { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: OID },
      { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', val: 'ops@example.com' },
      ...roles.map((role) => ({ typ: ROLE_TYP, val: role })),
    ],
    ...overrides,
  };
  return Buffer.from(JSON.stringify(body)).toString('base64');
}

const headers = (values: Record<string, string>): Headers => new Headers(values);

function refusal(fn: () => unknown): [number, string] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RunsApiError);
    return [(error as RunsApiError).status, (error as RunsApiError).code];
  }
  throw new Error('expected a refusal');
}

describe('callerOf in Azure', () => {
  it('when Easy Auth passes an Entra principal with the operator role, then the caller is that principal', () => {
    const caller = callerOf(
      headers({
        'x-ms-client-principal': principal(['Lakewatt.Reader', 'Lakewatt.Operator']),
        'x-ms-client-principal-name': 'ops@example.com',
      }),
      AZURE,
    );

    expect(caller).toEqual<Caller>({ kind: 'entra', id: OID, name: 'ops@example.com' });
  });

  it('when the role arrives as a `roles` claim (app tokens), then it counts too', () => {
    const header = principal([], {
      claims: [
        { typ: 'oid', val: OID },
        { typ: 'roles', val: OPERATOR_ROLE },
      ],
    });

    expect(callerOf(headers({ 'x-ms-client-principal': header }), AZURE)).toEqual({
      kind: 'entra',
      id: OID,
      name: OID,
    });
  });

  it('when the principal lacks the operator role, then the call is refused with 403 OPERATOR_ROLE_REQUIRED', () => {
    const header = principal(['Lakewatt.Reader']);

    expect(refusal(() => callerOf(headers({ 'x-ms-client-principal': header }), AZURE))).toEqual([
      403,
      'OPERATOR_ROLE_REQUIRED',
    ]);
  });

  it.each([
    ['no principal header', {}],
    ['a header that is not base64 JSON', { 'x-ms-client-principal': '%%%not-base64' }],
    [
      'a principal with no claims list',
      { 'x-ms-client-principal': Buffer.from('{"auth_typ":"aad"}').toString('base64') },
    ],
    [
      'a principal of another provider',
      { 'x-ms-client-principal': principal([OPERATOR_ROLE], { auth_typ: 'github' }) },
    ],
    [
      'a principal without an object id',
      {
        'x-ms-client-principal': principal([OPERATOR_ROLE], {
          claims: [{ typ: ROLE_TYP, val: OPERATOR_ROLE }],
        }),
      },
    ],
  ])('when the request carries %s, then it is refused with 401 UNAUTHENTICATED', (_case, values) => {
    expect(refusal(() => callerOf(headers(values), AZURE))).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('when App Service authentication is off, then every call is refused, even with a principal header', () => {
    const values = { 'x-ms-client-principal': principal([OPERATOR_ROLE]) };

    expect(refusal(() => callerOf(headers(values), { mode: 'azure', easyAuthEnabled: false }))).toEqual([
      503,
      'AUTH_NOT_CONFIGURED',
    ]);
  });
});

describe('callerOf locally', () => {
  const LOCAL = { mode: 'local', easyAuthEnabled: false } as const;

  it('when no caller is named, then the caller is local', () => {
    expect(callerOf(headers({}), LOCAL)).toEqual({ kind: 'local', id: 'local', name: 'local' });
  });

  it('when the CLI names its user, then that name is the caller', () => {
    expect(callerOf(headers({ 'x-lakewatt-caller': 'cli:alice' }), LOCAL)).toEqual({
      kind: 'local',
      id: 'cli:alice',
      name: 'cli:alice',
    });
  });

  it('when a principal header is sent locally, then it is not trusted: the caller stays local', () => {
    const values = { 'x-ms-client-principal': principal([OPERATOR_ROLE]) };

    expect(callerOf(headers(values), LOCAL).kind).toBe('local');
  });

  it('when the caller name holds odd characters, then the call is refused with 400', () => {
    expect(refusal(() => callerOf(headers({ 'x-lakewatt-caller': 'a b<script>' }), LOCAL))).toEqual([
      400,
      'INVALID_REQUEST',
    ]);
  });
});
