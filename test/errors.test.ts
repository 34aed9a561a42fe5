/**
 * Every error class and every code in one table: codes are unique across classes, every status
 * is deliberate (none is 401, which makes a device unenroll), and start-up errors carry a flag
 * instead of a status. The table's type makes it exhaustive: a new class or code fails to compile
 * until it is listed here with its status.
 */
import { describe, expect, test } from '@jest/globals';
import {
  AcmeError,
  AdminError,
  CertificateAuthorityError,
  ConfigError,
  CryptoError,
  DeviceAuthError,
  IdentityError,
  ManagementError,
  OrchardError,
  OrchardStartupError,
  PlistError,
  PlistJsonError,
  ProfileError,
  ProtocolError,
  PushError,
  RequestError,
  ScepError,
  SecretsError,
  StorageError,
  UnrecognizedDeviceError,
  ValidationError,
  type AnyOrchardError,
  type OrchardErrorClasses,
  type OrchardErrorCode,
} from '../src/errors.js';

type ClassName = keyof OrchardErrorClasses;
type CodesOf = { [K in ClassName]: OrchardErrorClasses[K]['code'] };

/** One class: how to make it with a code, and the status of each of its codes (`null`: start-up). */
interface Row<E extends AnyOrchardError> {
  make(code: E['code']): E;
  statuses: Record<E['code'], E extends OrchardError ? number : null>;
}

const M = 'refused';
const TABLE: { [K in ClassName]: Row<OrchardErrorClasses[K]> } = {
  PlistError: {
    make: (c) => new PlistError(c, M),
    statuses: {
      ERR_PLIST_TOO_LARGE: 400,
      ERR_PLIST_DEPTH: 400,
      ERR_PLIST_SYNTAX: 400,
      ERR_PLIST_ENCODING: 400,
      ERR_PLIST_BINARY: 400,
      ERR_PLIST_TYPE: 400,
      ERR_PLIST_JSON: 400,
    },
  },
  CryptoError: {
    make: (c) => new CryptoError(c, M),
    statuses: {
      ERR_DER: 400,
      ERR_CMS_FORMAT: 400,
      ERR_CMS_UNSUPPORTED: 400,
      ERR_CMS_SIGNATURE: 400,
      ERR_CMS_DECRYPT: 400,
      ERR_CMS_NO_RECIPIENT: 400,
      ERR_CERT_FORMAT: 400,
      ERR_CERT_UNTRUSTED: 400,
      ERR_CERT_EXPIRED: 400,
      ERR_CERT_NOT_YET_VALID: 400,
      ERR_CSR_FORMAT: 400,
      ERR_CSR_SIGNATURE: 400,
      ERR_KEY_FORMAT: 400,
      ERR_SIGNER_KEY_MISMATCH: 400,
      ERR_PKCS12: 400,
    },
  },
  ValidationError: { make: () => new ValidationError(M, []), statuses: { ERR_VALIDATION: 422 } },
  ProfileError: {
    make: (c) => new ProfileError(c, M),
    statuses: {
      ERR_PROFILE_FORMAT: 400,
      ERR_PROFILE_NOT_SIGNED: 400,
      ERR_PROFILE_NOT_ENCRYPTED: 400,
      ERR_PROFILE_ALREADY_ENCRYPTED: 400,
    },
  },
  RequestError: {
    make: (c) => new RequestError(c, M),
    statuses: { ERR_BODY_TOO_LARGE: 413, ERR_METHOD: 405, ERR_NOT_FOUND: 404 },
  },
  ProtocolError: {
    make: (c) => new ProtocolError(c, M),
    statuses: {
      ERR_CHECKIN_FORMAT: 400,
      ERR_REPORT_FORMAT: 400,
      ERR_ENROLLMENT_ID: 400,
      ERR_CONTENT_TYPE: 415,
      ERR_ROUTE: 404,
      ERR_ENDPOINT: 400,
      ERR_NOT_CONFIGURED: 501,
    },
  },
  DeviceAuthError: {
    make: (c) => new DeviceAuthError(c, M),
    statuses: {
      ERR_IDENTITY_MISSING: 400,
      ERR_IDENTITY_HEADER: 400,
      ERR_CERT_CHAIN: 400,
      ERR_CERT_BINDING: 400,
      ERR_TOPIC: 400,
      ERR_ENROLLMENT_UNKNOWN: 400,
      ERR_DEVICE_CERT_REVOKED: 400,
    },
  },
  UnrecognizedDeviceError: {
    make: () => new UnrecognizedDeviceError(M),
    statuses: { ERR_UNRECOGNIZED_DEVICE: 403 },
  },
  ScepError: {
    make: (c) => new ScepError(c, M),
    statuses: {
      ERR_SCEP_OPERATION: 400,
      ERR_SCEP_MESSAGE: 400,
      ERR_SCEP_BODY_TOO_LARGE: 413,
      ERR_SCEP_VALIDATOR: 503,
    },
  },
  AdminError: {
    make: (c) => new AdminError(c, M),
    statuses: {
      ERR_API_KEY_MISSING: 403,
      ERR_API_KEY_INVALID: 403,
      ERR_API_SCOPE: 403,
      ERR_BAD_REQUEST: 400,
      ERR_BAD_JSON: 400,
      ERR_UNSUPPORTED_MEDIA: 415,
      ERR_CONFLICT: 409,
      ERR_TOKEN_INVALID: 404,
      ERR_TOKEN_ROTATED: 410,
      ERR_PUSH_DISABLED: 503,
      ERR_MAIL_DISABLED: 503,
      ERR_MAIL: 503,
    },
  },
  StorageError: { make: () => new StorageError(M), statuses: { ERR_STORAGE: 503 } },
  PushError: {
    make: (c) => new PushError(c, M),
    statuses: {
      ERR_PUSH_NO_TOPIC: 400,
      ERR_PUSH_KEY_MISMATCH: 400,
      ERR_PUSH_TOPIC_CHANGED: 409,
      ERR_PUSH_CSR: 400,
    },
  },
  CertificateAuthorityError: {
    make: (c) => new CertificateAuthorityError(c, M),
    statuses: {
      ERR_CA_KEY: 400,
      ERR_CA_FILE: 500,
      ERR_CA_PASSPHRASE: 400,
      ERR_CA_POLICY: 400,
      ERR_CA_SERIAL_CONFLICT: 409,
      ERR_CA_NOT_FOUND: 404,
    },
  },
  SecretsError: {
    make: (c) => new SecretsError(c, M),
    statuses: {
      ERR_SECRETS_KEY: 500,
      ERR_SECRETS_KEY_MISMATCH: 500,
      ERR_SECRET_UNKNOWN_KEY: 500,
      ERR_SECRET_OPEN: 500,
    },
  },
  IdentityError: {
    make: (c) => new IdentityError(c, M),
    statuses: { ERR_NO_BINDING: 409, ERR_NOT_ENROLLED: 409 },
  },
  ManagementError: {
    make: (c) => new ManagementError(c, M),
    statuses: {
      ERR_GROUP_NOT_FOUND: 404,
      ERR_GROUP_CYCLE: 409,
      ERR_GROUP_NOT_EMPTY: 409,
      ERR_GROUP_ROOT: 409,
      ERR_SETTINGS_PAGE: 404,
      ERR_SETTINGS_VALUES: 422,
      ERR_LOCKED_BY_ANCESTOR: 409,
      ERR_OVERRIDE_REQUIRED: 409,
      ERR_NOT_OVERRIDING: 409,
      ERR_ADMIN_SCOPE: 403,
      ERR_ADMIN_NOT_FOUND: 404,
      ERR_ADMIN_OWNER: 409,
      ERR_ADMIN_SELF: 409,
      ERR_ADMIN_DISABLED: 409,
      ERR_ADMIN_READ_ONLY: 422,
      ERR_PROFILE_NOT_FOUND: 404,
      ERR_PROFILE_INVALID: 422,
      ERR_PROFILE_IDENTIFIER_TAKEN: 409,
      ERR_PROFILE_IDENTIFIER_MISMATCH: 422,
      ERR_INTERACTIVE_DISABLED: 422,
      ERR_PROFILE_INTERACTIVE: 409,
      ERR_MANAGEMENT_BUSY: 503,
      ERR_USER_NOT_FOUND: 404,
      ERR_USERNAME_TAKEN: 409,
      ERR_USER_INVALID: 422,
      ERR_USER_CSV: 422,
      ERR_USER_NO_POLICY: 409,
      ERR_LINK_NOT_FOUND: 404,
      ERR_ENROLLMENT_TYPE_DISABLED: 409,
      ERR_POLICY_NOT_FOUND: 404,
      ERR_POLICY_NAME_TAKEN: 409,
      ERR_POLICY_IN_USE: 409,
      ERR_POLICY_UNKNOWN: 422,
      ERR_ASSIGNMENT_NOT_FOUND: 404,
      ERR_REMOVAL_CONTROL: 422,
      ERR_ENROLLMENT_NOT_FOUND: 404,
      ERR_DEVICE_PROFILE_NOT_FOUND: 404,
      ERR_NOT_INSTALLED_BY_ORCHARD: 409,
      ERR_PROFILE_NOT_OFFERED: 409,
      ERR_DEVICE_NOT_ENROLLED: 409,
      ERR_PROFILE_ASSIGNED: 409,
    },
  },
  AcmeError: {
    make: (c) => new AcmeError(c, M),
    statuses: {
      ERR_ACME_MALFORMED: 400,
      ERR_ACME_BAD_NONCE: 400,
      ERR_ACME_BAD_SIGNATURE_ALGORITHM: 400,
      ERR_ACME_BAD_PUBLIC_KEY: 400,
      ERR_ACME_UNAUTHORIZED: 403,
      ERR_ACME_ACCOUNT_DOES_NOT_EXIST: 400,
      ERR_ACME_UNSUPPORTED_IDENTIFIER: 400,
      ERR_ACME_REJECTED_IDENTIFIER: 400,
      ERR_ACME_ORDER_NOT_READY: 403,
      ERR_ACME_BAD_CSR: 400,
      ERR_ACME_INCORRECT_RESPONSE: 400,
      ERR_ACME_BAD_ATTESTATION: 400,
      ERR_ACME_NOT_FOUND: 404,
      ERR_ACME_CONFLICT: 409,
      ERR_ACME_METHOD: 405,
      ERR_ACME_UNSUPPORTED_MEDIA_TYPE: 415,
      ERR_ACME_SERVER_INTERNAL: 500,
    },
  },
  ConfigError: { make: () => new ConfigError('--listen', M), statuses: { ERR_CONFIG: null } },
};

// Compile-time proofs: no code is shared by two classes, and the classes cover the code union.
type Shared = { [K in ClassName]: CodesOf[K] & CodesOf[Exclude<ClassName, K>] }[ClassName];
type Uncovered = Exclude<OrchardErrorCode, CodesOf[ClassName]>;
const noSharedCode: [Shared] extends [never] ? true : false = true;
const noUncoveredCode: [Uncovered] extends [never] ? true : false = true;

interface Case {
  name: ClassName;
  code: string;
  status: number | null;
  make: () => AnyOrchardError;
}

const CASES: Case[] = Object.entries(TABLE).flatMap(([name, row]) =>
  Object.entries(row.statuses as Record<string, number | null>).map(([code, status]) => ({
    name: name as ClassName,
    code,
    status,
    make: () => (row.make as (c: string) => AnyOrchardError)(code),
  })),
);

describe('error table', () => {
  test('ok/the union of codes has no code shared by two classes (types and values)', () => {
    expect([noSharedCode, noUncoveredCode]).toEqual([true, true]);
    const codes = CASES.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  test.each(CASES.filter((c) => c.status !== null))(
    'ok/$name $code answers $status, never 401',
    ({ name, code, status, make }) => {
      const error = make();
      expect(error).toBeInstanceOf(OrchardError);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      const { status: actual, expose } = error as OrchardError;
      expect(actual).toBe(status);
      expect(actual).not.toBe(401);
      expect(expose).toBe(actual < 500);
    },
  );

  test.each(CASES.filter((c) => c.status === null))(
    'ok/$name $code is a start-up error with a flag and no status',
    ({ name, code, make }) => {
      const error = make();
      expect(error).toBeInstanceOf(OrchardStartupError);
      expect(error).not.toBeInstanceOf(OrchardError);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect('status' in error).toBe(false);
      expect((error as ConfigError).flag).toBe('--listen');
      expect(error.message).toBe(`--listen: ${M}`);
    },
  );
});

/** What a caller reaches after narrowing by code: each class's own fields. */
function extra(error: AnyOrchardError): string | undefined {
  switch (error.code) {
    case 'ERR_CONFIG':
      return error.flag;
    case 'ERR_BAD_REQUEST':
      return error.field;
    case 'ERR_VALIDATION':
      return error.issues[0]?.path;
    default:
      return undefined;
  }
}

describe('discriminated union', () => {
  test.each([
    ['ok/ERR_CONFIG narrows to ConfigError', new ConfigError('--data-dir', M), '--data-dir'],
    [
      'ok/ERR_BAD_REQUEST narrows to AdminError',
      new AdminError('ERR_BAD_REQUEST', M, { field: 'cursor' }),
      'cursor',
    ],
    [
      'ok/ERR_VALIDATION narrows to ValidationError',
      new ValidationError(M, [{ path: 'A', code: 'x', message: M, severity: 'error' }]),
      'A',
    ],
    ['ok/other codes carry no extra field', new StorageError(M), undefined],
  ])('%s', (_name, error, want) => {
    expect(extra(error)).toBe(want);
  });

  test('ok/PlistJsonError is a PlistError with its own name and the ERR_PLIST_JSON code', () => {
    const error = new PlistJsonError('Payload', M);
    expect(error).toBeInstanceOf(PlistError);
    expect([error.name, error.code, error.path, error.status]).toEqual([
      'PlistJsonError',
      'ERR_PLIST_JSON',
      'Payload',
      400,
    ]);
  });
});
