#!/usr/bin/env node
// Runs the XSOAR pack's Python (.tools/xsoar-venv, made by `node scripts/bootstrap.js --xsoar`) with
// the given arguments, or the system's python3 when that venv is missing (the pack's zip build needs
// only the standard library; the tests say what to install).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const WIN = process.platform === 'win32';
const venv = path.join(__dirname, '..', '.tools', 'xsoar-venv', WIN ? 'Scripts' : 'bin', WIN ? 'python.exe' : 'python');
const python = fs.existsSync(venv) ? venv : WIN ? 'python' : 'python3';
const r = spawnSync(python, process.argv.slice(2), { stdio: 'inherit', cwd: path.join(__dirname, '..') });
if (r.error) {
  console.error(`[xsoar] cannot run ${python}: ${r.error.message}. Run \`node scripts/bootstrap.js --xsoar\`.`);
  process.exit(1);
}
process.exit(r.status ?? 1);
