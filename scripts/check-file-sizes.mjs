/**
 * `npm run lint`'s size check: no product source file (src/**.ts, not a test, contract suite or fixture)
 * over MAX_LINES lines. A file that grows past it holds more than one thing a reader must keep in mind at
 * once: split it along a seam (a port's helpers, a schema, a group of operations), not into halves.
 * Plain JavaScript on purpose: it runs without a compile step.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_LINES = 300;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NOT_PRODUCT = /\.(test|contract|fixture)\.ts$/;

function* sources(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(file);
    else if (entry.name.endsWith('.ts') && !NOT_PRODUCT.test(entry.name)) yield file;
  }
}

const over = [];
for (const file of sources(path.join(ROOT, 'src'))) {
  const name = path.relative(ROOT, file).split(path.sep).join('/');
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_LINES) over.push(`${name}: ${lines} lines`);
}
if (over.length > 0) {
  process.stderr.write(`Product source files over ${MAX_LINES} lines (split each along a seam):\n${over.map((o) => `  ${o}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`✔ no product source file over ${MAX_LINES} lines\n`);
