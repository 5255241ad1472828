#!/usr/bin/env node
// The `flock` command: registers tsx (Flock ships TypeScript sources), then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../api/cli/flock.ts');
const code = await run(process.argv.slice(2));
// `start` keeps running the service; every other command ends with its code
if (process.argv[2] !== 'start') process.exitCode = code;
