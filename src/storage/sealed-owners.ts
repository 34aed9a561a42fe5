/**
 * What each sealed value is bound to (the `owner` of `SecretsKeyring.seal`), shared by every
 * adapter so a value sealed by one opens in another (`orchard db copy` moves sealed bytes as
 * they are). Internal to `src/storage/`.
 */

/** What a library profile version's content is bound to: its profile and version. */
export function libraryProfileOwner(profileId: string, version: number): string {
  return JSON.stringify([profileId, version]);
}

/** What an assignment's removal password is bound to: its policy and its profile. */
export function removalPasswordOwner(policyId: string, profileId: string): string {
  return JSON.stringify([policyId, profileId]);
}

/** What a command result is bound to: its command and its enrollment. */
export function resultOwner(uuid: string, enrollmentId: string): string {
  return JSON.stringify([uuid, enrollmentId]);
}

/** What `resealSecrets` (each adapter) re-sealed under the current key, per kind. */
export interface ResealResult {
  unlockTokens: number;
  bootstrapTokens: number;
  commands: number;
  commandResults: number;
  webhookEvents: number;
  libraryProfiles: number;
  enrollmentLinks: number;
  /** Removal passwords of `with-authorization` policy assignments. */
  removalPasswords: number;
}
