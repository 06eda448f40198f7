// Checks Grafana dashboard JSON files against Grafana's own dashboard schema, offline.
//
//   node tests/deploy/validate-dashboards.mjs DASHBOARD.json...
//
// The schema is the TypeScript form of Grafana's dashboard schema (CUE-generated),
// from the npm package @grafana/schema pinned in package.json / package-lock.json.
// Each file becomes a typed literal `const d: Dashboard = <json>` compiled with
// `tsc --noEmit --strict`: wrong types, missing required fields and unknown fields
// (excess-property checks) of the dashboard, its links, panels, field config,
// templating and annotations are errors. Panel options and targets are free-form
// in the schema (plugin-specific) and are checked by check_dashboards.py instead.
// A JSON string is not assignable to a TypeScript string enum even when it is one of
// the enum's values (e.g. ThresholdsMode "absolute"): those reports are filtered out
// by looking the value up in the schema's enum declarations.
// Exit 0: all valid; 1: an error; 2: usage.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NODE_MODULES = process.env.GVE_DEPLOY_NODE_MODULES || path.join(HERE, "node_modules");
const require = createRequire(path.join(NODE_MODULES, "x.js"));
const files = process.argv.slice(2);
if (!files.length) {
  console.error("usage: validate-dashboards.mjs DASHBOARD.json...");
  process.exit(2);
}
const ts = require(path.join(NODE_MODULES, "typescript"));
const schemaDir = path.join(NODE_MODULES, "@grafana", "schema");
const version = JSON.parse(fs.readFileSync(path.join(schemaDir, "package.json"), "utf8")).version;

// enum name -> set of string values, from every declaration file of the package.
const enums = new Map();
const walk = (d) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.d\.(m|c)?ts$/.test(e.name)) {
      const text = fs.readFileSync(p, "utf8");
      for (const m of text.matchAll(/enum\s+(\w+)\s*\{([^}]*)\}/g)) {
        const vals = enums.get(m[1]) || new Set();
        for (const v of m[2].matchAll(/=\s*"([^"]*)"/g)) vals.add(v[1]);
        enums.set(m[1], vals);
      }
    }
  }
};
walk(path.join(schemaDir, "dist", "esm"));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gve-dash-validate-"));
let failed = 0;
try {
  fs.symlinkSync(NODE_MODULES, path.join(dir, "node_modules"));
  const srcs = files.map((f, i) => {
    const src = path.join(dir, `d${i}.ts`);
    const json = fs.readFileSync(f, "utf8");
    fs.writeFileSync(src, `import type { Dashboard } from "@grafana/schema";\nexport const d: Dashboard = ${json};\n`);
    return src;
  });
  const program = ts.createProgram(srcs, {
    noEmit: true, strict: true, skipLibCheck: true, types: [],
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  });
  const perFile = new Map(srcs.map((s) => [s, []]));
  let ignored = 0;
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n")[0];
    const m = msg.match(/^Type '"([^"]*)"' is not assignable to type '(\w+)'\.$/);
    if (m && enums.get(m[2])?.has(m[1])) {
      ignored++;
      continue;
    }
    let where = "";
    if (d.file && d.start !== undefined) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      where = ` (line ${line}: ${d.file.text.split("\n")[line].trim().slice(0, 80)})`;
    }
    const key = d.file ? d.file.fileName : "";
    if (!perFile.has(key)) perFile.set(key, []);
    perFile.get(key).push(msg + where);
  }
  srcs.forEach((s, i) => {
    const errs = perFile.get(s);
    if (errs.length) {
      failed++;
      console.log(`INVALID ${files[i]}\n        ${errs.join("\n        ")}`);
    } else {
      console.log(`valid   ${files[i]} (Grafana dashboard schema, @grafana/schema ${version})`);
    }
  });
  for (const [k, errs] of perFile) {
    if (!srcs.includes(k) && errs.length) {
      failed++;
      console.log(`TypeScript errors outside the dashboards:\n  ${errs.join("\n  ")}`);
    }
  }
  if (ignored) console.log(`(${ignored} string-enum literal reports matched the schema's enum values and were ignored)`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`validate-dashboards: ${failed ? "FAILED" : "passed"}: ${files.length} dashboards`);
process.exit(failed ? 1 : 0);
