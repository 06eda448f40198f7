// Validates Kubernetes objects against the official schemas, offline.
//
//   node tests/deploy/validate-k8s.mjs OBJECTS.json
//
// OBJECTS.json: [{"source": "<where it came from>", "object": {...}}, ...] (what
// check_manifests.py writes from `kubectl kustomize` output).
//
// Schemas come from npm packages pinned in package.json / package-lock.json:
// - kubernetes-models 5.1.0: models of every built-in API (Kubernetes 1.34 OpenAPI);
// - @kubernetes-models/prometheus-operator 6.0.0: ServiceMonitor, PodMonitor,
//   PrometheusRule, ... from the prometheus-operator CRDs' openAPIV3Schema.
// Two checks per object:
// 1. model.validate(): the JSON schema (types, required fields, enums, formats);
// 2. strict: the object as a TypeScript literal of the model's interface, compiled
//    with `tsc --noEmit`: an unknown or misspelled field is an excess-property error
//    (the JSON schemas above allow additional properties, like the API server's
//    non-strict mode; kubectl's strict field validation does not).
// Kinds without a model (e.g. Kyverno's ClusterPolicy) are reported as "no schema"
// and left to check_manifests.py's structural checks.
// Exit 0: all valid; 1: an error; 2: usage.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NODE_MODULES = process.env.GVE_DEPLOY_NODE_MODULES || path.join(HERE, "node_modules");
const require = createRequire(path.join(NODE_MODULES, "x.js"));

if (process.argv.length !== 3) {
  console.error("usage: validate-k8s.mjs OBJECTS.json");
  process.exit(2);
}
const items = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

// apiVersion -> [package, subpath prefix]
function modelModule(apiVersion) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  }
  if (!apiVersion.includes("/")) return `kubernetes-models/${apiVersion}`; // core: v1
  const group = apiVersion.split("/")[0];
  if (!group.includes(".") || group.endsWith(".k8s.io") || ["apps", "batch", "policy", "autoscaling"].includes(group)) {
    return `kubernetes-models/${apiVersion}`;
  }
  return null;
}

function resolveModule(spec) {
  try {
    const p = require.resolve(path.join(NODE_MODULES, spec, "index.js"));
    return p;
  } catch {
    return null;
  }
}

let failed = 0;
const strict = []; // [index, typeImport, interfaceName]
for (const [i, { source, object }] of items.entries()) {
  const what = `${source}: ${object.kind} ${object.metadata?.namespace ? object.metadata.namespace + "/" : ""}${object.metadata?.name}`;
  const spec = object.apiVersion && modelModule(object.apiVersion);
  const file = spec && resolveModule(spec);
  let Cls = null;
  if (file) {
    const mod = await import(pathToFileURL(file).href);
    Cls = mod[object.kind];
  }
  if (!Cls) {
    console.log(`no schema  ${what} (${object.apiVersion}: no model in the pinned packages)`);
    continue;
  }
  try {
    new Cls(object).validate();
    console.log(`valid      ${what}`);
    strict.push([i, `${spec}/${object.kind}`, `I${object.kind}`, what]);
  } catch (e) {
    failed++;
    console.log(`INVALID    ${what}\n           ${String(e.message).split("\n").join("\n           ")}`);
  }
}

// Strict field check through TypeScript's excess-property checks.
const ts = require(path.join(NODE_MODULES, "typescript"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gve-k8s-validate-"));
try {
  fs.symlinkSync(NODE_MODULES, path.join(dir, "node_modules"));
  const lines = [];
  const owner = []; // line number (0-based) -> item index
  const emit = (text, idx) => {
    for (const l of text.split("\n")) {
      lines.push(l);
      owner.push(idx);
    }
  };
  strict.forEach(([i, typeImport, iface], n) => emit(`import type { ${iface} as T${n} } from "${typeImport}";`, i));
  strict.forEach(([i], n) => emit(`export const o${n}: T${n} = ${JSON.stringify(items[i].object, null, 2)};`, i));
  const src = path.join(dir, "objects.ts");
  fs.writeFileSync(src, lines.join("\n") + "\n");
  const program = ts.createProgram([src], {
    noEmit: true, strict: true, skipLibCheck: true, types: [],
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  });
  const diags = ts.getPreEmitDiagnostics(program);
  const byItem = new Map();
  for (const d of diags) {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    let idx = -1;
    let where = "";
    if (d.file && d.file.fileName === src && d.start !== undefined) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      idx = owner[line];
      where = ` (line: ${lines[line].trim()})`;
    }
    if (!byItem.has(idx)) byItem.set(idx, []);
    byItem.get(idx).push(msg.split("\n")[0] + where);
  }
  for (const [i, , , what] of strict) {
    const errs = byItem.get(i);
    if (errs) {
      failed++;
      console.log(`NOT STRICT ${what}\n           ${errs.join("\n           ")}`);
    } else {
      console.log(`strict     ${what}`);
    }
  }
  if (byItem.has(-1)) {
    failed++;
    console.log(`TypeScript errors outside the objects:\n  ${byItem.get(-1).join("\n  ")}`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`validate-k8s: ${failed ? "FAILED" : "passed"}: ${items.length} objects, ${strict.length} with a schema, ${failed} failing`);
process.exit(failed ? 1 : 0);
