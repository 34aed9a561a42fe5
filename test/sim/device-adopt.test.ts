/**
 * `adopt`: a simulated device takes over an enrollment made elsewhere (the benchmark's
 * pre-enrolled fleet). Here a device enrolled through the daemon hands its identity and MDM
 * payload to a second simulated device with the same UDID, which then polls and answers a
 * command as the enrolled device; before adopting, connecting is refused.
 */
import { describe, expect, test } from '@jest/globals';
import { download, openProfile, readEnrollmentProfile } from '../../src/sim/enroll.js';
import { createSimDevice } from '../../src/sim/index.js';
import { enrolledSimDevice, queueCommand, useSimDaemon } from './daemon-support.js';

const sim = useSimDaemon(1);

describe('adopt', () => {
  test('ok/an adopted enrollment polls and answers commands as the enrolled device', async () => {
    const { h, keys } = sim;
    const enrolled = await enrolledSimDevice(h, keys);
    const link = await h.api('POST', '/api/v1/enrollment-tokens', { singleUse: true });
    const { mdm } = readEnrollmentProfile(openProfile(await download(fetch, link.body.url)));
    const twin = createSimDevice({ platform: 'iOS', osVersion: '18.1', udid: enrolled.udid });
    await expect(twin.connect()).rejects.toThrow(TypeError);
    // The pool holds one key: the enrolled device's.
    const identity = { certificate: enrolled.certificate!, privateKey: keys.take() };
    twin.adopt({ identity, mdm: mdm! });
    expect(twin.enrolled).toBe(true);
    expect((await twin.connect()).errors).toEqual([]);
    await queueCommand(h, enrolled.enrollmentId, { RequestType: 'ProfileList' });
    const session = await twin.connect();
    expect(session).toMatchObject({ errors: [], requestTypes: { ProfileList: 1 } });
    expect(session.commands).toEqual({ Acknowledged: 1 });
  });
});
