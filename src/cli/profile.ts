/**
 * `orchard profile ...`: configuration-profile tools. Each subcommand lives in its own
 * `profile-*.ts` file exporting `registerProfileX(group)`; register new ones here.
 */
import type { Command } from 'commander';
import { registerProfileBuild } from './profile-build.js';
import { registerProfileEncrypt } from './profile-encrypt.js';
import { registerProfileInspect } from './profile-inspect.js';
import { registerProfileSign } from './profile-sign.js';
import { registerProfileValidate } from './profile-validate.js';
import { registerProfileVerify } from './profile-verify.js';

/** Registers the `profile` command group and its subcommands on the program; returns the group. */
export function registerProfile(program: Command): Command {
  const group = program
    .command('profile')
    .description('build, validate, sign, verify and encrypt configuration profiles');
  registerProfileBuild(group);
  registerProfileValidate(group);
  registerProfileSign(group);
  registerProfileVerify(group);
  registerProfileEncrypt(group);
  registerProfileInspect(group);
  return group;
}
