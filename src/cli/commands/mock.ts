import type { CliCommand } from './types.js';

/** `dsprobe mock`: placeholder registration, replaced by the owner of this command. */
export const mockCommand: CliCommand = {
  name: 'mock',
  register(program) {
    program.command('mock').description('(not yet built)');
  },
};
