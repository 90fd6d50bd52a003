// End-to-end test of the tailwatch dashboard in headless Chromium (playwright-core + the
// system's chromium): healthy pushes → status ok and trend points; a collapsed push → alerting,
// alert marker, open alert row; sign in → Acknowledge → acknowledged (page and API).
//
//   node tests/browser/dashboard.test.mjs path/to/tailwatch
//
// Env: CHROMIUM_PATH (default /usr/bin/chromium); TAILWATCH_BROWSER_ARTIFACTS: folder for the
// screenshots (default: a fresh temp folder, printed at the end). Exit 0 = every check passed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const MODEL = 'browser-demo';
const METRIC = 'distinct_2';
const STEP_TIMEOUT_MS = 15_000;
const started = Date.now();

function log(message) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}`);
}

// ---------------------------------------------------------------- data

/** mulberry32: a tiny seeded PRNG, so the pushed text is the same on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 300 distinct made-up words (consonant-vowel syllables). */
function vocabulary() {
  const next = rng(7);
  const c = 'bdfgklmnprstvz';
  const v = 'aeiou';
  const words = new Set();
  while (words.size < 300) {
    const syllables = 1 + Math.floor(next() * 3);
    let w = '';
    for (let i = 0; i < syllables; i++) {
      w += c[Math.floor(next() * c.length)] + v[Math.floor(next() * v.length)];
    }
    words.add(w);
  }
  return [...words];
}

/** ~300 varied sentences: random words from the vocabulary, 8-16 words each. */
function healthy(seed, lines = 300) {
  const vocab = vocabulary();
  const next = rng(seed);
  const out = [];
  for (let i = 0; i < lines; i++) {
    const n = 8 + Math.floor(next() * 9);
    const words = Array.from({ length: n }, () => vocab[Math.floor(next() * vocab.length)]);
    out.push(words.join(' '));
  }
  return out.join('\n') + '\n';
}

/** ~300 lines that repeat three templates: a collapsed generator. */
function collapsed(lines = 300) {
  const templates = [
    'the model said that the answer is good and the answer is good',
    'i think the answer is good and i think the model is good',
    'the answer is the answer and the model is the model',
  ];
  return Array.from({ length: lines }, (_, i) => templates[i % templates.length]).join('\n') + '\n';
}

// ---------------------------------------------------------------- server

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Server {
  constructor(bin, db, token) {
    Object.assign(this, { bin, db, token, child: null, output: '', exited: null });
  }

  /** Start on a free port; retries when another process took the port in between. */
  async start() {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const port = await freePort();
      this.url = `http://127.0.0.1:${port}`;
      this.output = '';
      this.exited = null;
      this.child = spawn(this.bin, ['serve', '--db', this.db, '--addr', `127.0.0.1:${port}`, '--public-reads', '-q'], {
        env: { ...process.env, TAILWATCH_TOKEN: this.token },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.child.stdout.on('data', (d) => (this.output += d));
      this.child.stderr.on('data', (d) => (this.output += d));
      this.child.on('error', (e) => (this.exited = `could not start: ${e.message}`));
      this.child.on('exit', (code, signal) => (this.exited = `exited (code ${code}, signal ${signal})`));
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !this.exited) {
        try {
          const res = await fetch(`${this.url}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
          if (res.ok) {
            const body = await res.json();
            assert.equal(body.status, 'ok', `/api/v1/health answered ${JSON.stringify(body)}`);
            return;
          }
        } catch {
          // not listening yet
        }
        await sleep(100);
      }
      if (this.exited && /cannot listen|in use/i.test(this.output) && attempt < 3) {
        log(`port ${port} was taken, trying another`);
        continue;
      }
      await this.stop();
      throw new Error(
        `tailwatch serve did not answer /api/v1/health within 30 s (${this.exited ?? 'still running'})`,
      );
    }
  }

  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }

  /** Last-resort synchronous kill (process 'exit' handler). */
  killNow() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
  }

  async api(method, route, body) {
    const res = await fetch(`${this.url}/api/v1${route}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    assert.ok(res.ok, `${method} /api/v1${route} answered HTTP ${res.status}: ${text}`);
    return json;
  }
}

/** `tailwatch push FILE --server URL --model M --version V -q [extra]`; returns {status, stdout}. */
function push(bin, server, file, version, extra = []) {
  const args = ['push', file, '--server', server.url, '--model', MODEL, '--version', version, '-q', ...extra];
  const run = spawnSync(bin, args, {
    env: { ...process.env, TAILWATCH_TOKEN: server.token },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.error) throw new Error(`tailwatch ${args.join(' ')}: ${run.error.message}`);
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, args };
}

function pushOk(bin, server, file, version) {
  const run = push(bin, server, file, version);
  assert.equal(run.status, 0, `tailwatch ${run.args.join(' ')} exited ${run.status}:\n${run.stdout}${run.stderr}`);
  log(`pushed ${version}: ${run.stdout.trim()}`);
}

// ---------------------------------------------------------------- the test

async function main() {
  const bin = process.argv[2];
  assert.ok(bin, 'usage: node dashboard.test.mjs PATH_TO_TAILWATCH_BINARY');
  assert.ok(fs.existsSync(bin), `no tailwatch binary at ${bin}`);
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  assert.ok(fs.existsSync(executablePath), `no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH)`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tailwatch-browser-'));
  const artifacts = process.env.TAILWATCH_BROWSER_ARTIFACTS || fs.mkdtempSync(path.join(os.tmpdir(), 'tailwatch-shots-'));
  fs.mkdirSync(artifacts, { recursive: true });
  const token = `tw-test-${randomBytes(12).toString('hex')}`;
  const server = new Server(path.resolve(bin), path.join(work, 'watch.db'), token);
  process.on('exit', () => server.killNow());
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      server.killNow();
      process.exit(130);
    });
  }
  // v1 arrives in three pushes of 100 lines (merged by the server; its pushes are the baseline's
  // chunks, which the chart's band needs), v2 in one push of 300, the collapsed v3 in one.
  const files = {
    v1: [1, 2, 3].map((i) => path.join(work, `v1-part${i}.txt`)),
    v2: path.join(work, 'v2.txt'),
    v3: path.join(work, 'v3.txt'),
  };
  files.v1.forEach((file, i) => fs.writeFileSync(file, healthy(10 + i, 100)));
  fs.writeFileSync(files.v2, healthy(2));
  fs.writeFileSync(files.v3, collapsed());

  let browser;
  let page;
  try {
    await server.start();
    log(`server up at ${server.url}`);

    // -- healthy history, baseline, rule (API)
    for (const part of files.v1) pushOk(bin, server, part, 'v1');
    pushOk(bin, server, files.v2, 'v2');
    await server.api('PUT', `/models/${MODEL}/baseline`, { version: 'v1' });
    const rule = await server.api('POST', '/rules', { model: MODEL, metric: METRIC, kind: 'relative', threshold: 0.2 });
    log(`baseline v1, rule ${JSON.stringify(rule)}`);
    const before = await server.api('GET', '/alerts');
    assert.equal(before.alerts.length, 0, `no alert expected before the collapsed push: ${JSON.stringify(before)}`);

    // -- browser: overview and model page while healthy
    browser = await chromium.launch({ executablePath, args: [
      // the flags this workplace's machines need: no sandbox as root, no /dev/shm (small in
      // containers; a full one crashes the renderer), no network beyond localhost
      '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ], headless: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    const goto = async (route) => {
      const res = await page.goto(`${server.url}${route}`);
      assert.ok(res && res.ok(), `GET ${route} answered HTTP ${res && res.status()}`);
    };
    const row = () => page.locator(`table#models tr[data-model="${MODEL}"]`);
    const chart = () => page.locator(`div.chart[data-metric="${METRIC}"] svg.trend`);

    await goto('/');
    assert.equal(await row().count(), 1, `overview: no row tr[data-model="${MODEL}"] in table#models`);
    assert.equal(await row().locator('span.status').getAttribute('class').then(statusOf), 'ok', 'overview: status before the collapse');
    log('overview: model row, status-ok');

    await row().locator(`a[href="/models/${MODEL}"]`).click();
    await page.waitForURL(`${server.url}/models/${MODEL}`);
    assert.equal(await chart().count(), 1, `model page: no chart div.chart[data-metric="${METRIC}"] svg.trend`);
    const healthyPoints = await chart().locator('circle.point').count();
    assert.ok(healthyPoints >= 2, `model page: ${METRIC} chart has ${healthyPoints} points, expected ≥ 2`);
    assert.equal(await chart().locator('circle.alert-marker').count(), 0, 'model page: alert marker before any alert');
    assert.equal(await chart().locator('path.baseline-band').count(), 1, 'model page: no path.baseline-band (baseline v1 has 3 chunks)');
    assert.equal(await chart().locator('polyline.baseline-value').count(), 1, 'model page: no polyline.baseline-value in the chart');
    assert.ok((await chart().locator('polyline.threshold').count()) >= 1, 'model page: no polyline.threshold for the rule');
    // the band is read at each version's size: at v1's own size it holds v1's value
    const v1 = chart().locator('circle.point[data-version="v1"]');
    const [low, high] = (await v1.getAttribute('data-band')).split(' ').map(Number);
    const v1Value = Number(await v1.getAttribute('data-value'));
    assert.ok(low <= v1Value && v1Value <= high, `model page: v1's band [${low}, ${high}] does not hold its value ${v1Value}`);
    // the legend says what each mark is
    const legend = await page.locator(`div.chart[data-metric="${METRIC}"] div.legend`).innerText();
    for (const words of ['value of each version', 'baseline ± 3σ at each version', 'baseline at each version', 'rule #']) {
      assert.ok(legend.includes(words), `model page: the legend lacks "${words}": ${legend}`);
    }
    assert.equal(await page.locator('table#versions tr').count(), 1 + 2, 'model page: table#versions should list v1 and v2');
    log(`model page: ${healthyPoints} points, band [${low}, ${high}] holding v1 = ${v1Value}, baseline, threshold, legend`);

    // -- collapsed push (the CI gate fails it)
    const gate = push(bin, server, files.v3, 'v3', ['--json', '--fail-on-alert']);
    assert.equal(gate.status, 1, `push of the collapsed v3 with --fail-on-alert should exit 1, got ${gate.status}:\n${gate.stdout}${gate.stderr}`);
    const answer = JSON.parse(gate.stdout);
    const opened = answer.alerts_opened ?? [];
    assert.ok(
      opened.some((a) => a.metric === METRIC && a.version === 'v3'),
      `push of v3 should open a ${METRIC} alert: ${gate.stdout}`,
    );
    const alertId = opened.find((a) => a.metric === METRIC).id;
    log(`pushed collapsed v3: alert #${alertId} opened`);

    // -- reload: alerting + marker
    await page.reload();
    assert.equal(await chart().locator('circle.point').count(), healthyPoints + 1, 'model page: v3 adds one point');
    const markers = chart().locator('circle.alert-marker');
    assert.equal(await markers.count(), 1, 'model page: one alert marker (on v3) after the collapse');
    assert.equal(await markers.first().getAttribute('data-version'), 'v3', 'model page: the alert marker should be on v3');
    await goto('/');
    assert.equal(await row().locator('span.status').getAttribute('class').then(statusOf), 'alerting', 'overview: status after the collapse');
    log('after collapse: status-alerting, alert marker on v3');

    // -- alerts page, signed out
    await page.locator('header a[href="/alerts"]').click();
    await page.waitForURL(`${server.url}/alerts`);
    const alertRow = page.locator(`table#alerts tr.alert[data-alert="${alertId}"]`);
    assert.equal(await alertRow.count(), 1, `alerts page: no row tr.alert[data-alert="${alertId}"]`);
    assert.equal(await alertRow.getAttribute('data-state'), 'open', 'alerts page: state of the new alert');
    assert.equal(await alertRow.getByRole('button', { name: 'Acknowledge' }).count(), 0, 'alerts page: Acknowledge shown while signed out');
    const signInLink = alertRow.getByRole('link', { name: 'sign in to acknowledge' });
    assert.equal(await signInLink.count(), 1, 'alerts page: no "sign in to acknowledge" link while signed out');
    log('alerts page: open row, signed out');

    // -- sign in (a wrong token first), come back to /alerts
    await signInLink.click();
    await page.waitForURL(/\/login\?next=/);
    await page.locator('form#login input[name=token]').fill('not-the-token');
    await page.locator('form#login button[type=submit]').click();
    await page.waitForLoadState();
    assert.match(await page.locator('main').textContent(), /not valid/, 'login: a wrong token should be refused');
    await goto('/login?next=%2Falerts');
    await page.locator('form#login input[name=token]').fill(token);
    await Promise.all([page.waitForURL(`${server.url}/alerts`), page.locator('form#login button[type=submit]').click()]);
    const cookies = await context.cookies(server.url);
    const session = cookies.find((c) => c.name === 'tailwatch_session');
    assert.ok(session, `login: no tailwatch_session cookie (cookies: ${JSON.stringify(cookies.map((c) => c.name))})`);
    assert.equal(session.httpOnly, true, 'login: the cookie must be HttpOnly');
    assert.ok(!session.value.includes(token), 'login: the cookie must hold a session id, not the token');
    log('signed in, back on /alerts');

    // -- acknowledge
    const button = alertRow.getByRole('button', { name: 'Acknowledge' });
    assert.equal(await button.count(), 1, 'alerts page: no Acknowledge button after signing in');
    await Promise.all([page.waitForURL(`${server.url}/alerts`), button.click()]);
    assert.equal(await alertRow.getAttribute('data-state'), 'acknowledged', 'alerts page: state after Acknowledge');
    assert.equal(await alertRow.getByRole('button', { name: 'Acknowledge' }).count(), 0, 'alerts page: Acknowledge still shown');
    const viaApi = await server.api('GET', `/alerts/${alertId}`);
    assert.equal(viaApi.state, 'acknowledged', `GET /api/v1/alerts/${alertId}: ${JSON.stringify(viaApi)}`);
    assert.equal(viaApi.acknowledged_by, 'dashboard', `GET /api/v1/alerts/${alertId}: acknowledged_by`);
    log(`alert #${alertId} acknowledged (page and API)`);

    const shot = path.join(artifacts, 'alerts-acknowledged.png');
    await page.screenshot({ path: shot, fullPage: true });
    await goto(`/models/${MODEL}`);
    await page.screenshot({ path: path.join(artifacts, 'model.png'), fullPage: true });
    await goto('/');
    assert.equal(await row().locator('span.status').getAttribute('class').then(statusOf), 'acknowledged', 'overview: status after Acknowledge');
    assert.deepEqual(pageErrors, [], 'no page errors');
    log(`screenshots in ${artifacts}`);
  } catch (err) {
    if (page) {
      try {
        await page.screenshot({ path: path.join(artifacts, 'failure.png'), fullPage: true });
        fs.writeFileSync(path.join(artifacts, 'failure.html'), await page.content());
        console.error(`failure screenshot and HTML (${page.url()}) in ${artifacts}`);
      } catch {
        // the page may be gone
      }
    }
    if (server.output) console.error(`--- tailwatch serve output\n${server.output}---`);
    throw err;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** `status status-ok` → `ok`. */
function statusOf(cls) {
  const m = /(?:^|\s)status-([\w-]+)/.exec(cls ?? '');
  return m ? m[1] : `(no status-* class in "${cls}")`;
}

main().then(
  () => {
    log('PASS: dashboard browser test');
    process.exit(0);
  },
  (err) => {
    console.error(`FAIL: dashboard browser test: ${err && err.message ? err.message : err}`);
    if (err && err.stack && !(err instanceof assert.AssertionError)) console.error(err.stack);
    process.exit(1);
  },
);
