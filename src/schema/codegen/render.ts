/**
 * The whole generator as a pure function: schema folder in, file contents out. The
 * `generate` script writes them; the staleness test compares them with the committed files.
 */
import { join } from 'node:path';
import { buildArea } from './areas.js';
import { emitFacts, GENERATED_HEADER } from './emit-facts.js';
import { emitTypes, pascal } from './emit-types.js';
import { loadSchemaDir, loadSchemaFile } from './load.js';

const TYPE_IMPORTS =
  "import type { PlistDict, PlistReal, PlistValue } from '../../protocol/plist.js';\n";

/** Type name of a profile payload type: `com.apple.wifi.managed` becomes `WifiManagedPayload`. */
export function payloadTypeName(payloadType: string): string {
  if (payloadType === 'TopLevel') return 'ProfileTopLevelKeys';
  if (payloadType === 'CommonPayloadKeys') return 'PayloadCommonKeys';
  return `${pascal(payloadType.replace(/^com\.apple\./, ''))}Payload`;
}

/** Renders every generated file from the schema at `schemaDir`; keys are paths relative to `src/schema/generated/`. */
export function renderSchema(schemaDir: string): Map<string, string> {
  const mdm = join(schemaDir, 'mdm');
  const profiles = buildArea(loadSchemaDir(join(mdm, 'profiles')), 'payloadtype');
  const commands = buildArea(loadSchemaDir(join(mdm, 'commands')), 'requesttype');
  const checkin = buildArea(loadSchemaDir(join(mdm, 'checkin')), 'requesttype');
  const skipKeys = buildArea(
    [loadSchemaFile(join(schemaDir, 'other'), 'skipkeys.yaml')],
    'payloadtype',
  );
  const types = (body: string): string =>
    `${GENERATED_HEADER}/* eslint-disable */\n${TYPE_IMPORTS}\n${body}`;
  return new Map([
    [
      'profile-facts.ts',
      emitFacts(
        'profileFacts',
        'Profile payload types, plus `TopLevel` and `CommonPayloadKeys`.',
        profiles,
      ),
    ],
    ['command-facts.ts', emitFacts('commandFacts', 'MDM commands by `RequestType`.', commands)],
    ['checkin-facts.ts', emitFacts('checkinFacts', 'Check-in messages by `MessageType`.', checkin)],
    [
      'skipkey-facts.ts',
      emitFacts('skipKeyFacts', 'Setup Assistant skip keys: one entry, `SkipKeys`.', skipKeys),
    ],
    [
      'profile-types.ts',
      types(
        emitTypes(
          profiles,
          { entryName: payloadTypeName, prefix: 'Profile', requiredKeys: true },
          'ProfilePayloadKeys',
        ),
      ),
    ],
    [
      'command-types.ts',
      types(
        emitTypes(
          commands,
          {
            entryName: (e) => `${e}Command`,
            prefix: 'Command',
            discriminator: 'RequestType',
            requiredKeys: true,
          },
          'CommandRequests',
          'CommandResponses',
        ),
      ),
    ],
    [
      'checkin-types.ts',
      types(
        emitTypes(
          checkin,
          { entryName: (e) => `${e}Message`, prefix: 'Checkin', requiredKeys: false },
          'CheckinMessages',
          'CheckinResponses',
        ),
      ),
    ],
  ]);
}
