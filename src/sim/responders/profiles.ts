/**
 * ProfileList, InstallProfile and RemoveProfile over the device's profile store. A signed
 * profile must verify, an encrypted one is opened with the device identity key, and an
 * enrollment profile (MDM and SCEP payloads) renews the identity once the install is reported.
 * See https://developer.apple.com/documentation/devicemanagement/installprofilecommand
 */
import type { PlistDict } from '../../protocol/plist.js';
import { decryptProfile, isEncryptedProfile } from '../../profile/encrypt.js';
import { errorChain, type SimAnswer, type SimCommandContext } from '../commands.js';
import { openProfile, readEnrollmentProfile } from '../enroll.js';

const PROFILE_DOMAIN = 'MCProfileErrorDomain';

function summaryOf(profile: PlistDict): PlistDict {
  const payloads = Array.isArray(profile.PayloadContent)
    ? (profile.PayloadContent as PlistDict[])
    : [];
  const out: PlistDict = {};
  for (const key of ['PayloadIdentifier', 'PayloadUUID', 'PayloadDisplayName', 'PayloadVersion']) {
    const value = profile[key];
    if (value !== undefined) out[key] = value;
  }
  out.PayloadRemovalDisallowed = profile.PayloadRemovalDisallowed === true;
  out.IsManaged = true;
  out.PayloadContent = payloads.map((p) => ({
    PayloadIdentifier: p.PayloadIdentifier ?? '',
    PayloadType: p.PayloadType ?? '',
    PayloadUUID: p.PayloadUUID ?? '',
    PayloadVersion: p.PayloadVersion ?? 1,
  }));
  return out;
}

/** Answers ProfileList with every installed profile. */
export function profileList(_command: PlistDict, ctx: SimCommandContext): SimAnswer {
  const list = ctx.profiles.list().map((r) => ({
    ...summaryOf(r.profile),
    IsManaged: r.installedBy === 'this-mdm',
  }));
  return { status: 'Acknowledged', fields: { ProfileList: list } };
}

/** Installs the profile in `Payload`; an enrollment profile renews the identity afterwards. */
export function installProfile(command: PlistDict, ctx: SimCommandContext): SimAnswer {
  const payload = command.Payload;
  if (!(payload instanceof Uint8Array)) return { status: 'CommandFormatError' };
  let profile: PlistDict;
  try {
    profile = openProfile(payload);
    if (isEncryptedProfile(profile)) {
      const { certificate, privateKey } = ctx.identity();
      profile = decryptProfile(profile, { privateKey, certificate });
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: 'Error', fields: errorChain(PROFILE_DOMAIN, 1000, message) };
  }
  const enrollment = readEnrollmentProfile(profile);
  if (enrollment.mdm === undefined) {
    ctx.profiles.install(profile, 'configuration');
    return { status: 'Acknowledged' };
  }
  ctx.profiles.install(profile, 'enrollment');
  const scep = enrollment.scep;
  return scep === undefined
    ? { status: 'Acknowledged' }
    : { status: 'Acknowledged', after: () => ctx.renewIdentity(scep) };
}

/** Removes the profile named by `Identifier`, unless absent or the removal rules refuse. */
export function removeProfile(command: PlistDict, ctx: SimCommandContext): SimAnswer {
  const identifier = command.Identifier;
  if (typeof identifier !== 'string') return { status: 'CommandFormatError' };
  const kind = ctx.profiles.find(identifier)?.kind;
  const decision = ctx.profiles.remove(identifier);
  if (decision === undefined) {
    return {
      status: 'Error',
      fields: errorChain(PROFILE_DOMAIN, 1001, `no profile with identifier ${identifier}`),
    };
  }
  if (decision.outcome !== 'allowed') {
    return { status: 'Error', fields: errorChain(PROFILE_DOMAIN, 1005, decision.reason) };
  }
  return kind === 'enrollment'
    ? { status: 'Acknowledged', after: () => ctx.unenroll() }
    : { status: 'Acknowledged' };
}
