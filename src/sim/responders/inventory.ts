/**
 * SecurityInfo, CertificateList and InstalledApplicationList: a small, plausible inventory.
 * See https://developer.apple.com/documentation/devicemanagement/securityinforesponse and
 * https://developer.apple.com/documentation/devicemanagement/certificatelistresponse
 */
import type { PlistDict } from '../../protocol/plist.js';
import type { SimAnswer, SimCommandContext } from '../commands.js';

/** Answers SecurityInfo with platform-appropriate keys. */
export function securityInfo(_command: PlistDict, ctx: SimCommandContext): SimAnswer {
  const info: PlistDict =
    ctx.platform === 'macOS'
      ? {
          FDE_Enabled: true,
          SystemIntegrityProtectionEnabled: true,
          AuthenticatedRootVolumeEnabled: true,
          FirewallSettings: { FirewallEnabled: true, BlockAllIncoming: false, StealthMode: false },
        }
      : {
          HardwareEncryptionCaps: 3,
          PasscodePresent: true,
          PasscodeCompliant: true,
          PasscodeCompliantWithProfiles: true,
        };
  return { status: 'Acknowledged', fields: { SecurityInfo: info } };
}

/** Answers CertificateList with the device identity and its issuers. */
export function certificateList(_command: PlistDict, ctx: SimCommandContext): SimAnswer {
  const identity = ctx.identity().certificate;
  const list: PlistDict[] = ctx.certificates().map((cert) => ({
    CommonName: /CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? cert.subject,
    Data: new Uint8Array(cert.raw),
    IsIdentity: cert.fingerprint256 === identity.fingerprint256,
  }));
  return { status: 'Acknowledged', fields: { CertificateList: list } };
}

const APPS: readonly PlistDict[] = [
  { Identifier: 'com.apple.mobilesafari', Name: 'Safari', ShortVersion: '18.0', Version: '8619' },
  { Identifier: 'com.example.notes', Name: 'Notes Pro', ShortVersion: '2.4.1', Version: '241' },
];

/** Answers InstalledApplicationList with a fixed pair of applications. */
export function installedApplicationList(): SimAnswer {
  const list = APPS.map((app) => ({ ...app, BundleSize: 52_428_800, IsValidated: true }));
  return { status: 'Acknowledged', fields: { InstalledApplicationList: list } };
}
