import type { CliCommand } from './types.js';

/** `dsprobe report`: placeholder registration, replaced by the owner of this command. */
export const reportCommand: CliCommand = {
  name: 'report',
  register(program) {
    program.command('report').description('(not yet built)');
  },
};
