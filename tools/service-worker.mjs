// Writes the service worker of a build: www/sw.js with its BUILD line filled in from the built folder.
//   node tools/service-worker.mjs [folder]     (default: $TRUNK_STAGING_DIR, as a Trunk post-build hook)
// The version is a hash of every file's name and bytes, so any change to any file is a new version.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Fetched only when a visitor asks for them; the service worker keeps them once fetched. The threaded
// worker (threads/) is fetched only by a cross-origin isolated page: copying it up front would make every
// visitor download a second worker that most first visits cannot use.
const ON_DEMAND = ['data/fashion.bin'];
const ON_DEMAND_FOLDERS = ['threads/'];
const SELF = 'sw.js';

const folder = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!folder) throw new Error('name the built folder, or run as a Trunk hook');
const template = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../www/sw.js'), 'utf8');

function filesUnder(dir, prefix = '') {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]);
}

const all = filesUnder(folder).filter((f) => f !== SELF).sort();
const hash = crypto.createHash('sha256');
for (const file of all) hash.update(file).update('\0').update(fs.readFileSync(path.join(folder, file)));
const version = hash.digest('hex').slice(0, 16);
// The page is cached as './', its address; index.html is the same file.
const onDemand = all.filter((f) => ON_DEMAND.includes(f) || ON_DEMAND_FOLDERS.some((folder) => f.startsWith(folder)));
const files = ['./', ...all.filter((f) => f !== 'index.html' && !onDemand.includes(f))];

const line = `const BUILD = ${JSON.stringify({ version, files, onDemand })};`;
const pattern = /^const BUILD = .*;$/m;
if (!pattern.test(template)) throw new Error('www/sw.js has no BUILD line to fill in');
fs.writeFileSync(path.join(folder, SELF), template.replace(pattern, () => line));
console.log(`service worker: build ${version}, ${files.length} files kept for offline use`);
