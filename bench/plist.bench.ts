/**
 * Property-list codec: Orchard's decoder and encoder against the `plist` package, measured side
 * by side in the same run on constructed device messages from fixtures/messages.
 * Goals (issue 2): XML decode ≥ 10×, XML encode ≥ 2× the package's rate.
 */
import { readFileSync } from 'node:fs';
import * as plist from 'plist';
import { decodePlist, encodePlist } from '../src/protocol/plist.js';
import { type Rate, measure, report } from './lib.js';

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/messages/${name}`, import.meta.url));
}

/** The package's XML builder only knows its own value type; our decoded messages fit it. */
type PkgValue = Parameters<typeof plist.build>[0];

/** The same rate per CPU-second of this process: steadier when other work shares the cores. */
function perCpu(rate: Rate): Rate {
  return { ...rate, name: `${rate.name} per CPU-s`, opsPerSec: rate.opsPerCpuSec };
}

async function xmlPair(label: string, file: string): Promise<void> {
  const bytes = fixture(file);
  const text = bytes.toString('utf8');
  const value = decodePlist(bytes);
  const kb = (bytes.length / 1024).toFixed(1);
  const baseline = await measure(`plist.parse (string) ${label}`, () => plist.parse(text));
  const fromBytes = await measure(`decodePlist (bytes) ${label}`, () => decodePlist(bytes));
  const fromText = await measure(`decodePlist (string) ${label}`, () => decodePlist(text));
  report(`XML decode: ${label} (${kb} KB)`, baseline, [
    { rate: fromBytes, goal: 10 },
    { rate: fromText, goal: 10 },
  ]);
  report(`XML decode per CPU-second: ${label}`, perCpu(baseline), [
    { rate: perCpu(fromBytes), goal: 10 },
    { rate: perCpu(fromText), goal: 10 },
  ]);
  const encBase = await measure(`plist.build ${label}`, () => plist.build(value as PkgValue));
  report(`XML encode: ${label}`, encBase, [
    { rate: await measure(`encodePlist xml ${label}`, () => encodePlist(value)), goal: 2 },
  ]);
}

async function binaryPair(label: string, file: string): Promise<void> {
  const bytes = fixture(file);
  const value = decodePlist(bytes);
  const baseline = await measure(`plist.parseBinary ${label}`, () => plist.parseBinary(bytes));
  report(`binary decode: ${label} (${(bytes.length / 1024).toFixed(1)} KB)`, baseline, [
    { rate: await measure(`decodePlist binary ${label}`, () => decodePlist(bytes)) },
  ]);
  const encBase = await measure(`plist.buildBinary ${label}`, () =>
    plist.buildBinary(value as PkgValue),
  );
  report(`binary encode: ${label}`, encBase, [
    {
      rate: await measure(`encodePlist binary ${label}`, () =>
        encodePlist(value, { format: 'binary' }),
      ),
    },
  ]);
}

/** Decodes `input`, which must be refused; the time is what a refusal costs. */
function refuse(input: string): void {
  try {
    decodePlist(input);
  } catch {
    return;
  }
  throw new Error('a hostile input was accepted');
}

/**
 * What refusing hostile input costs, next to decoding a TokenUpdate: the timings behind the CPU
 * bounds of test/protocol/plist-hostile.test.ts (tests bound CPU time; timings live here).
 */
async function hostile(): Promise<void> {
  const bytes = fixture('checkin-tokenupdate-ios.plist');
  const entities = Array.from(
    { length: 9 },
    (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
  ).join('');
  const inputs: [string, string][] = [
    [
      'billion laughs',
      `<!DOCTYPE plist [<!ENTITY lol "lol">${entities}]><plist><string>&lol9;</string></plist>`,
    ],
    ['10,000-deep arrays', `<plist>${'<array>'.repeat(10_000)}`],
    ['1 MB string never closed', `<plist><string>${'a'.repeat(1 << 20)}`],
    ['1,100,000 tiny values', `<plist><array>${'<true/>'.repeat(1_100_000)}</array></plist>`],
  ];
  const rows = [];
  for (const [label, input] of inputs)
    rows.push({
      rate: await measure(`refuse ${label}`, () => {
        refuse(input);
      }),
    });
  report(
    'hostile XML: refusals against one TokenUpdate decode',
    await measure('decodePlist TokenUpdate', () => decodePlist(bytes)),
    rows,
  );
}

/** Prints the plist tables (`npm run bench -- plist`). */
export default async function run(): Promise<void> {
  await hostile();
  await xmlPair('TokenUpdate', 'checkin-tokenupdate-ios.plist');
  await xmlPair('Authenticate', 'checkin-authenticate-ios.plist');
  await xmlPair('DeviceInformation', 'report-deviceinformation.plist');
  await binaryPair('TokenUpdate', 'checkin-tokenupdate-ios.bplist');
  await binaryPair('DeviceInformation', 'report-deviceinformation.bplist');
}
