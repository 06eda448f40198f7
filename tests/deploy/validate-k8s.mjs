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
//   PrometheusRule, ... from the prometheus-operator CRDs' openAPIV3Schema;
// - @kubernetes-models/kyverno 2.0.0: ClusterPolicy, Policy, ... (kyverno.io/v1, v2, ...,
//   policies.kyverno.io, reports) generated from Kyverno's Go API types and their
//   kubebuilder markers (enums such as validationFailureAction are in the JSON schema;
//   the TypeScript types only say string). Free-form fields (validate.pattern,
//   mutate.patchStrategicMerge, a rule's preconditions) are untyped JSON there;
//   preconditions in the {any, all} form are checked below as AnyAllConditions.
// Two checks per object:
// 1. model.validate(): the JSON schema (types, required fields, enums, formats);
// 2. strict: the object as a TypeScript literal of the model's interface, compiled
//    with `tsc --noEmit`: an unknown or misspelled field is an excess-property error
//    (the JSON schemas above allow additional properties, like the API server's
//    non-strict mode; kubectl's strict field validation does not).
// Kinds without a model are reported as "no schema" (check_manifests.py fails on them).
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

// API groups of @kubernetes-models/kyverno (its package.json "exports").
const KYVERNO_GROUPS = ["kyverno.io", "policies.kyverno.io", "reports.kyverno.io", "json.kyverno.io",
  "wgpolicyk8s.io", "openreports.io"];

// apiVersion -> module specifier of its models (an index.js exporting one class per kind)
function modelModule(apiVersion) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  }
  if (KYVERNO_GROUPS.includes(apiVersion.split("/")[0]) && apiVersion.includes("/")) {
    return `@kubernetes-models/kyverno/${apiVersion}`;
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

// A Kyverno rule's preconditions are free-form JSON in the API (apiextensions JSON: the
// object form {any, all} or a legacy list of conditions), so the models leave them
// unchecked; the object form is checked here as the AnyAllConditions it is decoded to.
function freeFormParts(object, what) {
  const parts = [];
  if (!["kyverno.io/v1", "kyverno.io/v2beta1"].includes(object.apiVersion) ||
      !["ClusterPolicy", "Policy"].includes(object.kind)) return parts;
  for (const [j, rule] of (Array.isArray(object.spec?.rules) ? object.spec.rules : []).entries()) {
    const pre = rule?.preconditions;
    if (pre && typeof pre === "object" && !Array.isArray(pre)) {
      parts.push({ what: `${what} spec.rules[${j}].preconditions`, kind: "AnyAllConditions", data: pre });
    }
  }
  return parts;
}

let failed = 0;
let modelled = 0;
let parts = 0;
const strict = []; // [data, typeImport, interfaceName, what]
for (const { source, object } of items) {
  const what = `${source}: ${object.kind} ${object.metadata?.namespace ? object.metadata.namespace + "/" : ""}${object.metadata?.name}`;
  const spec = object.apiVersion && modelModule(object.apiVersion);
  const file = spec && resolveModule(spec);
  const mod = file ? await import(pathToFileURL(file).href) : {};
  const model = (kind) => (Object.hasOwn(mod, kind) ? mod[kind] : null);
  if (!model(object.kind)) {
    console.log(`no schema  ${what} (${object.apiVersion}: no model in the pinned packages)`);
    continue;
  }
  modelled++;
  const extra = freeFormParts(object, what);
  parts += extra.length;
  for (const { what: w, kind, data } of [{ what, kind: object.kind, data: object }, ...extra]) {
    try {
      new (model(kind))(data).validate();
      console.log(`valid      ${w}`);
      strict.push([data, `${spec}/${kind}`, `I${kind}`, w]);
    } catch (e) {
      failed++;
      console.log(`INVALID    ${w}\n           ${String(e.message).split("\n").join("\n           ")}`);
    }
  }
}

// Strict field check through TypeScript's excess-property checks.
const ts = require(path.join(NODE_MODULES, "typescript"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gve-k8s-validate-"));
try {
  fs.symlinkSync(NODE_MODULES, path.join(dir, "node_modules"));
  const lines = [];
  const owner = []; // line number (0-based) -> index in strict
  const emit = (text, idx) => {
    for (const l of text.split("\n")) {
      lines.push(l);
      owner.push(idx);
    }
  };
  strict.forEach(([, typeImport, iface], n) => emit(`import type { ${iface} as T${n} } from "${typeImport}";`, n));
  strict.forEach(([data], n) => emit(`export const o${n}: T${n} = ${JSON.stringify(data, null, 2)};`, n));
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
  for (const [n, [, , , what]] of strict.entries()) {
    const errs = byItem.get(n);
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
console.log(`validate-k8s: ${failed ? "FAILED" : "passed"}: ${items.length} objects, ${modelled} with a schema ` +
  `(+ ${parts} free-form parts), ${failed} failing`);
process.exit(failed ? 1 : 0);
