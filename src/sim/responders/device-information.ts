/**
 * DeviceInformation: the values a device of the simulated platform reports, limited to the
 * `Queries` asked (all known ones when none are given); unknown queries are left out, as
 * devices do. See https://developer.apple.com/documentation/devicemanagement/deviceinformationcommand
 */
import type { PlistDict, PlistValue } from '../../protocol/plist.js';
import type { SimAnswer, SimCommandContext } from '../commands.js';
import type { SimPlatform } from '../types.js';

const MODELS: Record<SimPlatform, PlistDict> = {
  iOS: {
    ProductName: 'iPhone16,1',
    Model: 'MTLT3LL/A',
    ModelName: 'iPhone',
    ModelNumber: 'MTLT3',
  },
  iPadOS: {
    ProductName: 'iPad14,3',
    Model: 'MNXD3LL/A',
    ModelName: 'iPad',
    ModelNumber: 'MNXD3',
  },
  macOS: {
    ProductName: 'Mac14,2',
    Model: 'Mac14,2',
    ModelName: 'MacBook Air',
    ModelNumber: 'Z15S',
  },
};

/** What a User Enrollment device does not report. */
const PRIVATE_UNDER_USER_ENROLLMENT = [
  'UDID',
  'SerialNumber',
  'IMEI',
  'PhoneNumber',
  'WiFiMAC',
  'BluetoothMAC',
  'DeviceName',
];

function valuesOf(ctx: SimCommandContext): PlistDict {
  const values = allValuesOf(ctx);
  if (!ctx.userEnrollment) return values;
  return Object.fromEntries(
    Object.entries(values).filter(([key]) => !PRIVATE_UNDER_USER_ENROLLMENT.includes(key)),
  );
}

function allValuesOf(ctx: SimCommandContext): PlistDict {
  const mobile = ctx.platform !== 'macOS';
  const common: PlistDict = {
    ...MODELS[ctx.platform],
    UDID: ctx.udid,
    SerialNumber: ctx.serialNumber,
    DeviceName: ctx.deviceName,
    OSVersion: ctx.osVersion,
    BuildVersion: '22A100',
    IsSupervised: ctx.supervised,
    DeviceCapacity: 256,
    AvailableDeviceCapacity: 180.5,
    IsActivationLockEnabled: false,
    IsCloudBackupEnabled: false,
    WiFiMAC: 'a4:83:e7:00:00:01',
    BluetoothMAC: 'a4:83:e7:00:00:02',
  };
  if (!mobile) return { ...common, IsAppleSilicon: true, SystemIntegrityProtectionEnabled: true };
  return {
    ...common,
    BatteryLevel: 0.82,
    IsMDMLostModeEnabled: false,
    IsDeviceLocatorServiceEnabled: false,
    ...(ctx.platform === 'iOS' ? { IMEI: '35 000000 000000 0', PhoneNumber: '' } : {}),
  };
}

/** Answers DeviceInformation with `QueryResponses` for the asked queries. */
export function deviceInformation(command: PlistDict, ctx: SimCommandContext): SimAnswer {
  const all = valuesOf(ctx);
  const asked = Array.isArray(command.Queries)
    ? command.Queries.filter((q): q is string => typeof q === 'string')
    : Object.keys(all);
  const responses: PlistDict = {};
  for (const query of asked) {
    const value: PlistValue | undefined = Object.hasOwn(all, query) ? all[query] : undefined;
    if (value !== undefined) responses[query] = value;
  }
  return { status: 'Acknowledged', fields: { QueryResponses: responses } };
}
