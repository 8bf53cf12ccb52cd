// Builds the browser libraries the app serves itself (exam LANs are offline: no CDN at run time).
// Run at set-up by `make install` (after `npm ci`), never at run time:
//
//   static/vendor/socket.io.min.js   window.io          (src/socketio.js, socket.io-client)
//   static/vendor/editor.min.js      window.ExamEditor  (src/editor.js, CodeMirror 6)
//   static/vendor/VERSIONS.txt       every npm package inside each bundle, with its version
//   static/vendor/LICENSES.txt       the license text of every bundled package
//
// static/vendor/ is generated and ignored by git; versions come from package-lock.json only.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const major = Number(process.versions.node.split(".")[0]);
if (major < 18) {
  console.error(`examsvc: Node.js ${process.versions.node} is too old; install Node.js 18+ and npm`);
  process.exit(1);
}

const { build, version: esbuildVersion } = await import("esbuild");

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const out = join(root, "static", "vendor");

const BUNDLES = [
  { entry: "src/socketio.js", file: "socket.io.min.js" },
  { entry: "src/editor.js", file: "editor.min.js" },
];

// "node_modules/@scope/name/dist/x.js" or ".../node_modules/a/node_modules/b/..." -> package dir
function packageDir(input) {
  const parts = input.split("/");
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return null;
  const nameLength = parts[at + 1].startsWith("@") ? 2 : 1;
  return parts.slice(0, at + 1 + nameLength).join("/");
}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

function licenseText(dir) {
  for (const name of ["LICENSE", "LICENSE.md", "LICENSE.txt", "license", "LICENCE", "License"]) {
    const path = join(here, dir, name);
    if (existsSync(path)) return readFileSync(path, "utf8").trim();
  }
  return null;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const packages = new Map(); // "name@version" -> {name, version, license, text, bundles:Set}
for (const { entry, file } of BUNDLES) {
  const result = await build({
    absWorkingDir: here,
    entryPoints: [entry],
    outfile: join(out, file),
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    minify: true,
    legalComments: "eof",
    metafile: true,
    logLevel: "warning",
  });
  for (const input of Object.keys(result.metafile.inputs)) {
    const dir = packageDir(input);
    if (dir === null) continue;
    const meta = readJson(join(here, dir, "package.json"));
    const key = `${meta.name}@${meta.version}`;
    if (!packages.has(key)) {
      packages.set(key, {
        name: meta.name,
        version: meta.version,
        license: meta.license ?? "UNKNOWN",
        text: licenseText(dir),
        bundles: new Set(),
      });
    }
    packages.get(key).bundles.add(file);
  }
}

const sorted = [...packages.values()].sort((a, b) => a.name.localeCompare(b.name));

// The packages ship no /*! license comments of their own (esbuild keeps any it finds, at the end
// of the file), so each bundle starts with one naming what is inside and where the licenses are.
for (const { file } of BUNDLES) {
  const inside = sorted.filter((p) => p.bundles.has(file));
  const names = inside.map((p) => `${p.name} ${p.version} (${p.license})`).join(", ");
  const path = join(out, file);
  const banner = `/*! examsvc ${file}, bundled from npm: ${names}. License texts: LICENSES.txt */\n`;
  writeFileSync(path, banner + readFileSync(path, "utf8"));
}
const versions = [
  "# Browser libraries in static/vendor, bundled by frontend/build.mjs from the exact versions in",
  "# frontend/package-lock.json. Generated at set-up: do not edit.",
  "# package version bundle(s)",
  ...sorted.map((p) => `${p.name} ${p.version} ${[...p.bundles].sort().join(",")}`),
  `esbuild ${esbuildVersion} (build tool)`,
  "",
];
writeFileSync(join(out, "VERSIONS.txt"), versions.join("\n"));

const licenses = sorted.map((p) => {
  const head = `${p.name} ${p.version} (${p.license})`;
  return `${head}\n${"=".repeat(head.length)}\n\n${p.text ?? `License: ${p.license}`}\n`;
});
writeFileSync(
  join(out, "LICENSES.txt"),
  `Third-party software bundled in static/vendor\n\n${licenses.join("\n")}`,
);

for (const { file } of BUNDLES) {
  const size = readFileSync(join(out, file)).length;
  console.log(`examsvc: ${relative(root, join(out, file))} ${(size / 1024).toFixed(1)} KiB`);
}
console.log(`examsvc: ${packages.size} npm packages bundled, see static/vendor/VERSIONS.txt`);
