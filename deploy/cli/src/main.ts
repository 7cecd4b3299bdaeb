#!/usr/bin/env node
// `custody`: the operator CLI (docs/cli.md). Process edge only: real stdio, env, exit code.
import { createInterface } from 'node:readline/promises';
import { runCli } from './cli.js';
import { COMMAND_GROUPS } from './commands.js';
import type { Io } from './types.js';

const io: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  interactive: process.stdin.isTTY === true,
  ask: async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

process.exitCode = await runCli(process.argv.slice(2), io, COMMAND_GROUPS);
