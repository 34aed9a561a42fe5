/**
 * Errors thrown by Orchard. Every error a client can cause is an {@link OrchardError}: it carries
 * a stable `code`, a deliberate HTTP `status` and `expose` (whether its message may be shown to
 * the client). Errors that stop start-up are {@link OrchardStartupError}s: a `code` and the
 * `flag` to fix, no status. Every code belongs to exactly one class, so {@link AnyOrchardError}
 * narrows by `code` (or `name`) to that class.
 *
 * The status is protocol, not decoration: an Apple device that receives 401 removes its MDM
 * profile, so nothing here maps to 401 unless unenrolling is the intent.
 */
import type { AcmeError, AcmeErrorCode } from './errors/acme.js';
import type { ConfigError } from './errors/base.js';
import type {
  CryptoError,
  CryptoErrorCode,
  PlistError,
  PlistErrorCode,
  ProfileError,
  ProfileErrorCode,
  ValidationError,
} from './errors/input.js';
import type {
  AdminError,
  AdminErrorCode,
  DeviceAuthError,
  DeviceAuthErrorCode,
  ProtocolError,
  ProtocolErrorCode,
  RequestError,
  RequestErrorCode,
  ScepError,
  ScepErrorCode,
  UnrecognizedDeviceError,
} from './errors/request.js';
import type { ManagementError, ManagementErrorCode } from './errors/management.js';
import type {
  CertificateAuthorityError,
  CertificateAuthorityErrorCode,
  IdentityError,
  IdentityErrorCode,
  PushError,
  PushErrorCode,
  SecretsError,
  SecretsErrorCode,
  StorageError,
} from './errors/server.js';

export * from './errors/base.js';
export * from './errors/input.js';
export * from './errors/request.js';
export * from './errors/server.js';
export * from './errors/management.js';
export * from './errors/acme.js';

/** Every code of an {@link OrchardError}, one union: a thrown code outside it does not typecheck. */
export type OrchardHttpErrorCode =
  | PlistErrorCode
  | CryptoErrorCode
  | 'ERR_VALIDATION'
  | ProfileErrorCode
  | RequestErrorCode
  | ProtocolErrorCode
  | DeviceAuthErrorCode
  | 'ERR_UNRECOGNIZED_DEVICE'
  | ScepErrorCode
  | AdminErrorCode
  | 'ERR_STORAGE'
  | PushErrorCode
  | CertificateAuthorityErrorCode
  | SecretsErrorCode
  | IdentityErrorCode
  | ManagementErrorCode
  | AcmeErrorCode;

/** Every code of an {@link OrchardStartupError}. */
export type OrchardStartupErrorCode = 'ERR_CONFIG';

/** Every code Orchard throws, request and start-up errors alike. */
export type OrchardErrorCode = OrchardHttpErrorCode | OrchardStartupErrorCode;

/**
 * Every concrete error class by its `name`. Adding a class means adding it here, and the table
 * test in `test/errors.test.ts` then proves its codes are unique and its statuses deliberate.
 */
export interface OrchardErrorClasses {
  PlistError: PlistError;
  CryptoError: CryptoError;
  ValidationError: ValidationError;
  ProfileError: ProfileError;
  RequestError: RequestError;
  ProtocolError: ProtocolError;
  DeviceAuthError: DeviceAuthError;
  UnrecognizedDeviceError: UnrecognizedDeviceError;
  ScepError: ScepError;
  AdminError: AdminError;
  StorageError: StorageError;
  PushError: PushError;
  CertificateAuthorityError: CertificateAuthorityError;
  SecretsError: SecretsError;
  IdentityError: IdentityError;
  ManagementError: ManagementError;
  AcmeError: AcmeError;
  ConfigError: ConfigError;
}

/**
 * Any error Orchard throws, as a union discriminated by `code` (each code names one class) and
 * by `name`: `switch (error.code)` narrows to the class and its extra fields.
 */
export type AnyOrchardError = OrchardErrorClasses[keyof OrchardErrorClasses];
