#!/usr/bin/env node
// The `baton` command. It runs the TypeScript sources directly, which needs Node >= 23.6 (type
// stripping on by default); the repository's npm scripts use Node 24 from node_modules/.bin.
// Node does not strip types under node_modules, so an installed package needs a built dist/.
import '../src/cli/main.ts';
