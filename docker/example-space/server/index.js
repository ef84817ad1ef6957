#!/usr/bin/env node
// Example Space web server for hfinit (Node core only, no npm dependencies).
//
// Routes:
//   GET /                  small HTML page: services (from hfinit's status) and pools
//   GET /health            a summary of hfinit's status.json: overall state and, per
//                          service, state, ready and required; 200 when ready or
//                          degraded, else 503 (see "Health" below for the case where no
//                          status file exists). Never the file itself: it holds command
//                          lines and error text, which are not for anonymous visitors.
//   GET /api/tts?text=…                 one job for the tts pool
//   GET /api/voice-clone?text=…&voice=… one job for the voice-clone pool
//
// Health: the status dir is $HFINIT_STATUS_DIR when set (only that one),
// else the first of /run/hfinit, $XDG_RUNTIME_DIR/hfinit, /tmp/hfinit that
// holds a status.json. While no status.json exists (the server runs without
// hfinit, or before hfinit wrote its first status), /health answers from the
// server's own state: 200 {"state":"ready","source":"self",…} while it
// listens, 503 {"state":"stopping","source":"self"} once it is shutting down.
// Set HEALTH_REQUIRE_STATUS=1 to answer 503 with a JSON reason instead when no
// status file exists. A status.json that exists but cannot be read or parsed
// is always 503 with a reason.
//
// Pools: a job is one JSON line over the pool's unix socket,
// $HFINIT_RUN_DIR/<type>.sock, else /tmp/hfinit-space/<type>.sock (the same
// rule as worker_pool.py); the pool's JSON answer is returned as is. A pool
// that is down gives 503 and the server stays up (hfinit's degraded mode).
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const HOST = process.env.HOST || '0.0.0.0';
const PORT = process.env.PORT === undefined || process.env.PORT === '' ? 7860 : Number(process.env.PORT);
const RUN_DIR = process.env.HFINIT_RUN_DIR || '/tmp/hfinit-space';
const POOL_TIMEOUT_MS = Number(process.env.SPACE_POOL_TIMEOUT_MS || 15000);
const REQUIRE_STATUS = ['1', 'yes', 'true'].includes(process.env.HEALTH_REQUIRE_STATUS || '');
const POOLS = ['tts', 'voice-clone'];
const MAX_TEXT = 2000;
const MAX_ANSWER = 1 << 20;

const startedAt = Date.now();
let stopping = false;

if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  console.error(`Error: PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}

function statusDirs() {
  if (process.env.HFINIT_STATUS_DIR) return [process.env.HFINIT_STATUS_DIR];
  const dirs = ['/run/hfinit'];
  if (process.env.XDG_RUNTIME_DIR) dirs.push(path.join(process.env.XDG_RUNTIME_DIR, 'hfinit'));
  dirs.push('/tmp/hfinit');
  return dirs;
}

// -> {file, body, status} | {file, error} | {looked}
function readStatus() {
  const dirs = statusDirs();
  for (const dir of dirs) {
    const file = path.join(dir, 'status.json');
    let body;
    try {
      body = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') continue;
      return { file, error: `cannot read ${file}: ${err.code || err.message}` };
    }
    try {
      const status = JSON.parse(body);
      if (status === null || typeof status !== 'object' || typeof status.state !== 'string') {
        return { file, error: `${file} has no "state" string` };
      }
      return { file, body, status };
    } catch (err) {
      return { file, error: `${file} is not valid JSON: ${err.message}` };
    }
  }
  return { looked: dirs };
}

function sendJson(res, code, obj, headers = {}) {
  const body = typeof obj === 'string' ? obj : JSON.stringify(obj) + '\n';
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(body);
}

// What /health shows of status.json: states only, no command, script, error text or pid.
function summary(status) {
  const services = {};
  const all = status.services && typeof status.services === 'object' ? status.services : {};
  for (const [name, svc] of Object.entries(all)) {
    const state = svc && typeof svc.state === 'string' ? svc.state : 'unknown';
    // done: a one-shot that finished (the model fetch); it counts as ready.
    services[name] = { state, ready: state === 'ready' || state === 'done', required: Boolean(svc && svc.required) };
  }
  return { state: status.state, source: 'hfinit', services };
}

function health(res) {
  const st = readStatus();
  if (st.status) {
    const ok = st.status.state === 'ready' || st.status.state === 'degraded';
    sendJson(res, ok ? 200 : 503, summary(st.status), { 'X-Health-Source': 'hfinit', 'X-Status-File': st.file });
    return;
  }
  if (st.error) {
    sendJson(res, 503, { state: 'unknown', source: 'hfinit', reason: st.error }, { 'X-Health-Source': 'hfinit' });
    return;
  }
  const uptime_s = Math.round((Date.now() - startedAt) / 1000);
  const headers = { 'X-Health-Source': 'self' };
  if (stopping) {
    sendJson(res, 503, { state: 'stopping', source: 'self', uptime_s }, headers);
  } else if (REQUIRE_STATUS) {
    const reason = `no hfinit status.json in ${st.looked.join(', ')} (HEALTH_REQUIRE_STATUS is set)`;
    sendJson(res, 503, { state: 'unknown', source: 'self', reason }, headers);
  } else {
    const reason = `no hfinit status.json in ${st.looked.join(', ')}: answering from the server's own state`;
    sendJson(res, 200, { state: 'ready', source: 'self', reason, uptime_s }, headers);
  }
}

function poolSocket(type) {
  return path.join(RUN_DIR, `${type}.sock`);
}

// One JSON line to the pool, one JSON line back. cb(err, answer) with
// err.status set to the HTTP code the client should get.
function askPool(type, job, cb) {
  const socketPath = poolSocket(type);
  const conn = net.createConnection(socketPath);
  let buf = '';
  let done = false;
  const finish = (err, answer) => {
    if (done) return;
    done = true;
    conn.destroy();
    cb(err, answer);
  };
  const fail = (status, reason) => {
    const err = new Error(reason);
    err.status = status;
    err.socket = socketPath;
    finish(err);
  };
  conn.setEncoding('utf8');
  conn.setTimeout(POOL_TIMEOUT_MS, () => fail(504, `no answer from the ${type} pool within ${POOL_TIMEOUT_MS} ms`));
  conn.on('connect', () => conn.write(JSON.stringify(job) + '\n'));
  conn.on('data', (chunk) => {
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl >= 0) {
      try {
        finish(null, JSON.parse(buf.slice(0, nl)));
      } catch (err) {
        fail(502, `the ${type} pool sent invalid JSON: ${err.message}`);
      }
    } else if (buf.length > MAX_ANSWER) {
      fail(502, `the ${type} pool sent an over-long answer`);
    }
  });
  conn.on('end', () => fail(502, `the ${type} pool closed the connection without an answer`));
  conn.on('error', (err) => {
    // ENOENT: no socket (pool not started or not ready yet); ECONNREFUSED:
    // a socket file whose pool is gone. Both mean the pool is down.
    const down = ['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES'].includes(err.code);
    fail(down ? 503 : 502, `${err.code || 'error'}: ${err.message}`);
  });
}

function apiJob(res, type, query) {
  const text = query.get('text');
  if (!text) return sendJson(res, 400, { error: 'missing query parameter: text' });
  if (text.length > MAX_TEXT) return sendJson(res, 400, { error: `text longer than ${MAX_TEXT} characters` });
  const job = type === 'tts' ? { op: 'synthesize', text } : { op: 'clone', text, voice: query.get('voice') || 'default' };
  askPool(type, job, (err, answer) => {
    if (err) {
      const error = err.status === 503 ? 'pool unavailable' : 'pool error';
      return sendJson(res, err.status, { error, pool: type, socket: err.socket, reason: err.message });
    }
    sendJson(res, answer && answer.ok ? 200 : 502, answer, { 'X-Pool': type });
  });
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function home(res) {
  const st = readStatus();
  const rows = [];
  if (st.status && st.status.services && typeof st.status.services === 'object') {
    for (const [name, svc] of Object.entries(st.status.services)) {
      rows.push(`<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(svc && svc.state)}</td>` +
        `<td>${escapeHtml(svc && svc.stage)}</td><td>${svc && svc.required ? 'yes' : 'no'}</td></tr>`);
    }
  }
  const overall = st.status ? `hfinit reports <b>${escapeHtml(st.status.state)}</b> (${escapeHtml(st.file)})`
    : st.error ? `hfinit status unreadable: ${escapeHtml(st.error)}` : 'no hfinit status file (running without hfinit?)';
  const pools = POOLS.map((p) => {
    const sock = poolSocket(p);
    return `<li><a href="/api/${p}?text=hello">/api/${p}?text=hello</a>: socket ${escapeHtml(sock)} ` +
      `${fs.existsSync(sock) ? 'present' : 'absent (pool down)'}</li>`;
  });
  const body = `<!doctype html>
<html><head><meta charset="utf-8"><title>hfinit example Space</title></head>
<body>
<h1>hfinit example Space</h1>
<p>${overall}. <a href="/health">/health</a></p>
${rows.length ? `<table border="1"><tr><th>service</th><th>state</th><th>stage</th><th>required</th></tr>${rows.join('')}</table>` : ''}
<h2>Worker pools</h2>
<ul>${pools.join('')}</ul>
</body></html>
`;
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const url = req.url.length > 200 ? req.url.slice(0, 200) + '…' : req.url;
    console.log(`${req.method} ${url} ${res.statusCode} ${ms.toFixed(1)}ms`);
  });
  let url;
  try {
    url = new URL(req.url, 'http://localhost');
  } catch {
    return sendJson(res, 400, { error: 'bad request URL' });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'only GET' }, { Allow: 'GET, HEAD' });
  if (url.pathname === '/') return home(res);
  if (url.pathname === '/health') return health(res);
  if (url.pathname === '/api/tts') return apiJob(res, 'tts', url.searchParams);
  if (url.pathname === '/api/voice-clone') return apiJob(res, 'voice-clone', url.searchParams);
  sendJson(res, 404, { error: 'not found', path: url.pathname });
});

server.on('error', (err) => {
  // e.g. "Error: listen EADDRINUSE: address already in use 0.0.0.0:7860"
  console.error(`Error: ${err.message}`);
  process.exit(1);
});

server.listen(PORT, HOST, () => {
  const addr = server.address();
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  console.log(`listening on http://${host}:${addr.port}`);
});

function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`got ${signal}, closing the server`);
  // Exit 0 within 1 s: stop accepting, drop idle and active connections,
  // and do not wait for anything past the deadline.
  setTimeout(() => process.exit(0), 800).unref();
  server.close(() => process.exit(0));
  server.closeAllConnections();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
