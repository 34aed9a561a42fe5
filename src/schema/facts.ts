/**
 * Shapes of the facts generated from Apple's device-management schema
 * (`fixtures/apple-device-management/`). The generated modules in `generated/` hold
 * one {@link SchemaArea} each; everything here is data, no behaviour.
 */

/** Platforms named in Apple's `supportedOS` blocks (`iOS` covers iPadOS). */
export type Platform = 'iOS' | 'macOS' | 'tvOS' | 'visionOS' | 'watchOS';

/** Every {@link Platform}, in Apple's order. */
export const PLATFORMS: readonly Platform[] = ['iOS', 'macOS', 'tvOS', 'visionOS', 'watchOS'];

/** Value types of a key spec, Apple's `<string>` etc. without the angle brackets. */
export type SchemaType =
  'string' | 'integer' | 'real' | 'boolean' | 'data' | 'date' | 'array' | 'dictionary' | 'any';

/** Apple's `mode` for User Enrollment and Shared iPad. */
export type AvailabilityMode = 'allowed' | 'required' | 'forbidden' | 'ignored';

/** One platform's availability facts (`supportedOS.<os>`), descriptions left out. */
export interface OsFacts {
  /** First OS version; `n/a` when never supported. */
  readonly introduced?: string;
  /** First OS version on which Apple deprecates it (still works; validators warn). */
  readonly deprecated?: string;
  /** First OS version without it (validators report an error from there on); `0` for never usable. */
  readonly removed?: string;
  readonly accessrights?: string;
  readonly multiple?: boolean;
  readonly devicechannel?: boolean;
  readonly userchannel?: boolean;
  readonly supervised?: boolean;
  readonly requiresdep?: boolean;
  readonly userapprovedmdm?: boolean;
  readonly allowmanualinstall?: boolean;
  readonly sharedipad?: {
    readonly mode?: AvailabilityMode;
    readonly devicechannel?: boolean;
    readonly userchannel?: boolean;
  };
  readonly userenrollment?: { readonly mode?: AvailabilityMode };
}

/** Per-platform facts; a missing platform inherits from the parent (or is unsupported at the root). */
export type OsTable = Readonly<Partial<Record<Platform, OsFacts>>>;

/** A scalar or list as it appears in `default` and `rangelist`. */
export type FactValue = string | number | boolean | readonly FactValue[];

/** One key spec; `subkeys` and `os` are indexes into the area's tables, so shared and recursive structures stay finite. */
export interface KeyFacts {
  readonly key: string;
  readonly type: SchemaType;
  readonly required?: true;
  readonly default?: FactValue;
  readonly rangelist?: readonly FactValue[];
  readonly range?: { readonly min?: number; readonly max?: number };
  /** Regular expression a string must match. */
  readonly format?: string;
  /** Element count bounds of an array. */
  readonly repetition?: { readonly min?: number; readonly max?: number };
  /** Index into {@link SchemaArea.osTables}: this key's own overrides. */
  readonly os?: number;
  /** Indexes into {@link SchemaArea.nodes}. */
  readonly subkeys?: readonly number[];
}

/** One payload type, command or check-in message. */
export interface EntryFacts {
  /** Index into {@link SchemaArea.osTables}; absent when Apple gives no `supportedOS`. */
  readonly os?: number;
  readonly keys: readonly number[];
  /** Command reply keys, or the server's answer to a check-in. */
  readonly responseKeys?: readonly number[];
  /** Schema files this entry was generated from (several files may share one type). */
  readonly files: readonly string[];
}

/** Generated facts of one schema folder. */
export interface SchemaArea {
  readonly nodes: readonly KeyFacts[];
  readonly osTables: readonly OsTable[];
  readonly entries: Readonly<Record<string, EntryFacts>>;
}
