#!/usr/bin/env node
// npm's `prepare` step: compiles lib/ to dist/ with TypeScript.
//
// npm runs `prepare` where the package's dev dependencies may be missing: for
// `npm pack` in a fresh clone, and for `npm install <folder>` of a clone (the
// folder is linked, and npm installs none of its dependencies, not even the
// run-time ones). Rather than fail with "tsc: not found" there, this first
// installs the checkout's own dependencies into it, as `npm install` in the
// folder would (scripts skipped: npm runs the `install` step itself next).
// For a git dependency npm has already installed them, so this only compiles.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** TypeScript's compiler as Node resolves it from the checkout (a workspace may hoist it above), or null. */
function tsc() {
  try { return require.resolve('typescript/bin/tsc', { paths: [root] }); } catch { return null; }
}

if (!tsc()) {
  console.log('nanopq: installing the dependencies of this checkout to build it (dist/ needs TypeScript)');
  // The outer npm's settings about where and what it installs (--global,
  // --omit=dev, --install-links...) are about the project installing nanopq,
  // not this checkout: leave those out, keep the rest (registry, cache...).
  const outer = /^npm_(package|lifecycle)_|^npm_config_(global|location|prefix|local_prefix|install_links|omit|include|production|dry_run|save|workspaces?|ignore_scripts)$/i;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !outer.test(k)));
  const npm = process.env.npm_execpath;  // the npm running this script
  const [cmd, pre] = npm && npm.endsWith('.js') ? [process.execPath, [npm]] : ['npm', []];
  run(cmd, [...pre, 'install', '--ignore-scripts', '--include=dev', '--no-save', '--no-audit', '--no-fund', '--prefix', root], env);
}
run(process.execPath, [tsc(), '-p', path.join(root, 'tsconfig.json')]);
run(process.execPath, [path.join(__dirname, 'write-esm-entry.js')]);
