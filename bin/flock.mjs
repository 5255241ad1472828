#!/usr/bin/env node
// The `flock` command: registers tsx (Flock ships TypeScript sources), then runs the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../api/cli/flock.ts');
