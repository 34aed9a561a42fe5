/**
 * A supervised Mac's bootstrap token: escrowed with SetBootstrapToken after TokenUpdate when the
 * enrollment profile lists the `com.apple.mdm.bootstraptoken` capability, read back with
 * GetBootstrapToken. See https://developer.apple.com/documentation/devicemanagement/setbootstraptokenrequest
 */
import { ProtocolError } from '../errors.js';
import {
  getBootstrapTokenMessage,
  setBootstrapTokenMessage,
  type SimCheckinFacts,
} from './checkin.js';
import type { SimMdmPayload } from './enroll.js';
import { CHECKIN_CONTENT_TYPE, sendCheckin, sendSigned, type SimIdentity } from './transport.js';

/** Whether a device escrows a bootstrap token: a supervised Mac (device enrollment) on a server that can hold one. */
export function escrowsBootstrapToken(
  facts: Pick<SimCheckinFacts, 'platform' | 'userEnrollment'>,
  supervised: boolean,
  mdm: SimMdmPayload | undefined,
): boolean {
  const caps = mdm?.ServerCapabilities ?? [];
  return (
    facts.platform === 'macOS' &&
    supervised &&
    !facts.userEnrollment &&
    caps.includes('com.apple.mdm.bootstraptoken')
  );
}

/** Sends SetBootstrapToken with `token`; throws `ProtocolError` `ERR_ENDPOINT` unless 200. */
export function escrowBootstrapToken(
  fetchFn: typeof fetch,
  url: string,
  facts: SimCheckinFacts,
  identity: SimIdentity,
  token: Uint8Array,
): Promise<void> {
  return sendCheckin(fetchFn, url, setBootstrapTokenMessage(facts, token), identity);
}

/** Sends GetBootstrapToken; the escrowed token, or undefined when the server holds none. */
export async function requestBootstrapToken(
  fetchFn: typeof fetch,
  url: string,
  facts: SimCheckinFacts,
  identity: SimIdentity,
): Promise<Uint8Array | undefined> {
  const message = getBootstrapTokenMessage(facts);
  const res = await sendSigned(fetchFn, url, message, identity, CHECKIN_CONTENT_TYPE);
  if (res.status !== 200) {
    throw new ProtocolError('ERR_ENDPOINT', `GetBootstrapToken answered ${res.status}`);
  }
  const token = res.body?.BootstrapToken;
  return token instanceof Uint8Array ? token : undefined;
}
