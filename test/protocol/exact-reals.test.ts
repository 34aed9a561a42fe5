/**
 * A whole `<real>` stays a real through every re-encoding path when decoded with the default
 * options: command building, profile encryption (and decryption), and device reports.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { decodeReport, encodeCommand, type CommandPayload } from '../../src/protocol/command.js';
import { PlistReal, decodePlist, encodePlist, type PlistDict } from '../../src/protocol/plist.js';
import { decryptProfile, encryptProfile } from '../../src/profile/encrypt.js';
import { testPki, type TestIdentity } from '../support/pki.js';

const PROFILE_XML = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0">
<dict>
	<key>PayloadIdentifier</key><string>com.example.reals</string>
	<key>PayloadUUID</key><string>6C2F8E2A-4A4B-4E4B-9C1A-3F0F3C3C3C3C</string>
	<key>PayloadType</key><string>Configuration</string>
	<key>PayloadVersion</key><integer>1</integer>
	<key>DurationUntilRemoval</key><real>3600</real>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadType</key><string>com.apple.MCX</string>
			<key>PayloadIdentifier</key><string>com.example.reals.mcx</string>
			<key>PayloadUUID</key><string>0E0E0E0E-1111-4222-8333-444444444444</string>
			<key>PayloadVersion</key><integer>1</integer>
			<key>com.apple.autologout.AutoLogOutDelay</key><real>64</real>
		</dict>
	</array>
</dict>
</plist>`;

let device: TestIdentity;
beforeAll(async () => {
  device = (await testPki()).rsaLeaf;
});

describe('a whole real decoded with the defaults stays a real', () => {
  test('ok/command building writes <real>64</real>, not <integer>', () => {
    const command = decodePlist(
      encodePlist({
        RequestType: 'InstallApplication',
        iTunesStoreID: 1,
        Configuration: { Ratio: new PlistReal(64), Count: 3 },
      }),
    ) as CommandPayload;
    const xml = encodeCommand(randomUUID(), command).toString('utf8');
    expect(xml).toContain('<key>Ratio</key>\n\t\t\t<real>64</real>');
    expect(xml).toContain('<key>Count</key>\n\t\t\t<integer>3</integer>');
  });

  test('ok/profile encryption keeps the payload real and the top-level real', () => {
    const profile = decodePlist(PROFILE_XML) as PlistDict;
    const encrypted = encryptProfile(profile, { recipient: device.certificate });
    expect(encodePlist(encrypted).toString()).toContain(
      '<key>DurationUntilRemoval</key>\n\t<real>3600</real>',
    );
    const decrypted = decryptProfile(encrypted, {
      privateKey: device.privateKey,
      certificate: device.certificate,
    });
    const text = encodePlist(decrypted).toString();
    expect(text).toContain(
      '<key>com.apple.autologout.AutoLogOutDelay</key>\n\t\t\t<real>64</real>',
    );
    expect(decrypted).toEqual(profile);
  });

  test('ok/a device report keeps its reals as PlistReal', () => {
    const report = decodeReport(
      encodePlist({
        UDID: 'U',
        Status: 'Acknowledged',
        CommandUUID: 'c',
        QueryResponses: { BatteryLevel: new PlistReal(1), DeviceCapacity: new PlistReal(64) },
      }),
    );
    expect((report.QueryResponses as PlistDict).DeviceCapacity).toEqual(new PlistReal(64));
    expect(encodePlist(report as PlistDict).toString()).toContain('<real>1</real>');
  });
});
