// The admin UI in a real browser (Chromium, driven by playwright-core), against a real daemon
// that tests/tests/e2e/browser.rs started with a workload. Run by that test; alone:
//
//   NIGHTSHIFT_URL=http://127.0.0.1:PORT NIGHTSHIFT_TOKEN=... NIGHTSHIFT_POWER_FILE=... \
//   ARTIFACTS=dir node e2e/browser.mjs
//
// It walks every page as a user would, checks what each shows against the API's own answers,
// acts from the page (pause, limits, cancel) and checks the daemon followed, and saves a
// screenshot of each page. Any Content-Security-Policy violation or page error fails it.
// Exit status 0 when every check held; otherwise the failed check and a screenshot.

import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env('NIGHTSHIFT_URL');
const token = env('NIGHTSHIFT_TOKEN');
const powerFile = env('NIGHTSHIFT_POWER_FILE');
const artifacts = env('ARTIFACTS');
const TIMEOUT = 30_000;
mkdirSync(artifacts, { recursive: true });

/** The API, as the page calls it. */
async function api(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

/** Polls `probe` until it returns something truthy (then returns it), or fails naming `what`. */
async function until(what, probe, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const byTestId = (id) => `[data-testid="${id}"]`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  // As root (CI machines) Chromium refuses its sandbox; the page is our own.
  args: ['--no-sandbox'],
});
const problems = [];
let page;
let step = 'start';
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  const text = async (id) => (await page.locator(byTestId(id)).first().textContent())?.trim() ?? '';
  const kpi = async (id) => (await page.locator(`${byTestId(id)} .kpi-value`).textContent())?.trim() ?? '';
  const shot = async (name) => {
    await page.screenshot({ path: join(artifacts, name) });
    console.log(`saved ${name}`);
  };

  step = 'without its link, the page says how to get in';
  await page.goto(`${base}/`);
  await page.waitForSelector(byTestId('token-missing'), { timeout: TIMEOUT });

  step = 'with the link, the app opens live and drops the token from the address';
  await page.goto(`${base}/#token=${token}`);
  await page.waitForSelector(`${byTestId('live-status')}[data-status="live"]`, { timeout: TIMEOUT });
  check(!page.url().includes(token), `the address still holds the token: ${page.url()}`);
  await page.evaluate(() => (window.__marker = 'same page'));
  const samePage = async () => check((await page.evaluate(() => window.__marker)) === 'same page', 'the page reloaded');

  step = 'the Overview cards count what the API counts';
  await page.waitForSelector(byTestId('overview-page'));
  const summary = await api('GET', '/api/summary');
  await until('the running and queued cards', async () =>
    (await kpi('kpi-running')) === String(summary.running) && (await kpi('kpi-queued')) === String(summary.counts.queued ?? 0));
  const day = await api('GET', '/api/metrics/summary?window=24h');
  const rate = `${(day.total.success_rate * 100).toFixed(1)}%`;
  await until(`the success card to say ${rate}`, async () => (await kpi('kpi-success')) === rate);
  check(day.total.failed >= 1 && day.total.succeeded >= 3, `the workload ran: ${JSON.stringify(day.total)}`);
  await until('the failures by cause', async () =>
    (await page.locator(`${byTestId('failure-exit_code')} td.num`).textContent())?.trim() === String(day.total.failures.exit_code));

  step = 'the charts draw the trend the API gives, and follow the window';
  const trends = await api('GET', '/api/metrics/trends?window=24h');
  const sum = (values) => values.reduce((a, v) => a + (v ?? 0), 0);
  const outcomes = ['succeeded', 'failed', 'cancelled'].map((k) => `${k}:${sum(trends.total[k])}`).join(',');
  await until(`the outcomes chart to draw ${outcomes}`, async () =>
    (await page.locator(byTestId('chart-outcomes')).getAttribute('data-sums')) === outcomes);
  for (const chart of ['chart-outcomes', 'chart-run-time', 'chart-depth']) {
    await until(`${chart} to have data`, async () => {
      const el = page.locator(byTestId(chart));
      return (await el.getAttribute('data-has-data')) === 'true' && Number(await el.getAttribute('data-points')) === trends.at.length;
    });
    const canvas = await page.locator(`${byTestId(chart)} canvas`).boundingBox();
    check(canvas && canvas.width > 200 && canvas.height > 100, `${chart} has a canvas: ${JSON.stringify(canvas)}`);
  }
  await page.click(byTestId('window-7d'));
  await page.waitForSelector(`${byTestId('charts')}[data-window="7d"]`, { timeout: TIMEOUT });
  check(page.url().includes('window=7d'), `the window is in the address: ${page.url()}`);
  await until('the 7-day step', async () => (await text('trend-step')) === 'one point per 2 h');
  await page.click(byTestId('window-24h'));
  await page.waitForSelector(`${byTestId('charts')}[data-window="24h"]`, { timeout: TIMEOUT });
  await shot('browser-overview.png');

  step = 'the header follows power live: on battery, the AC-only queue is held';
  writeFileSync(powerFile, JSON.stringify({ on_ac: false, percent: 42 }));
  await page.waitForSelector(`${byTestId('power-state')}[data-on-ac="false"]`, { timeout: TIMEOUT });
  // Added once the daemon is on battery (the page said so), or it would simply run.
  await api('POST', '/api/jobs', { cmd: ['sh', '-c', 'echo heavy work'], queue: 'heavy' });
  await until('the header to name the held queue', async () => (await text('held-queues')).includes('heavy'));
  await samePage();

  step = 'the Queues page shows each queue as the API does';
  await page.click(byTestId('nav-queues'));
  await page.waitForSelector(byTestId('queue-row-heavy'), { timeout: TIMEOUT });
  const power = await api('GET', '/api/power');
  await until('heavy to say why it is held', async () => (await text('queue-status-heavy')) === power.holding.heavy);
  check((await text('queue-power-heavy')).includes('needs AC'), 'heavy shows its power rule');
  const queues = await api('GET', '/api/queues');
  const index = queues.find((q) => q.name === 'index');
  await until('index running against its limit', async () => (await text('queue-running-index')) === `${index.counts.running ?? 0} / ${index.concurrency}`);
  await until('a trend line for default', async () => Number(await page.locator(byTestId('queue-trend-default')).getAttribute('data-runs')) >= 1);
  await shot('browser-queues.png');

  step = 'pause and resume a queue from its row';
  await page.click(byTestId('queue-pause-default'));
  await page.waitForSelector(`${byTestId('queue-row-default')}[data-paused="true"]`, { timeout: TIMEOUT });
  check((await api('GET', '/api/queues')).find((q) => q.name === 'default').paused === true, 'the daemon paused default');
  check((await text('queue-pause-default')) === 'Resume', 'the button offers Resume');
  await page.click(byTestId('queue-pause-default'));
  await page.waitForSelector(`${byTestId('queue-row-default')}[data-paused="false"]`, { timeout: TIMEOUT });
  check((await api('GET', '/api/queues')).find((q) => q.name === 'default').paused === false, 'the daemon resumed default');

  step = 'a limit that is not a number is refused on the page, naming the queue';
  await page.fill(byTestId('queue-limit-later'), 'two');
  await page.click(byTestId('queue-limit-save-later'));
  await until('the error message', async () => {
    const m = await page.locator(`${byTestId('message')}[data-kind="error"]`).last().textContent();
    return m?.includes('later') && m.includes('whole number') && m.includes('two');
  });
  check((await api('GET', '/api/queues')).find((q) => q.name === 'later').concurrency === 0, 'nothing was sent');

  step = 'a limit set on the page lets the held-back job run';
  await page.fill(byTestId('queue-limit-later'), '2');
  await page.click(byTestId('queue-limit-save-later'));
  await until('the daemon to take the limit', async () => {
    const later = (await api('GET', '/api/queues')).find((q) => q.name === 'later');
    return later.concurrency === 2 && later.limit_source === 'set';
  });
  await until('the later job to run', async () => (await api('GET', '/api/jobs?queue=later')).jobs.every((j) => j.state === 'succeeded'));
  await page.waitForSelector(byTestId('queue-limit-reset-later'), { timeout: TIMEOUT });

  step = 'back on AC, nothing is held';
  writeFileSync(powerFile, JSON.stringify({ on_ac: true, percent: 43 }));
  await page.waitForSelector(`${byTestId('power-state')}[data-on-ac="true"]`, { timeout: TIMEOUT });
  await page.waitForSelector(byTestId('held-queues'), { state: 'detached', timeout: TIMEOUT });
  await until('heavy to be active', async () => (await text('queue-status-heavy')) === 'active');

  step = 'the Jobs page: a running job shows what its group uses, and Cancel stops it';
  await page.click(byTestId('nav-jobs'));
  const running = (await api('GET', '/api/jobs?state=running')).jobs.find((j) => j.queue === 'index');
  check(running, 'the index job runs');
  await page.click(byTestId(`job-link-${running.id}`));
  await until('the detail to show the group’s usage', async () => (await text('detail-using')).includes('CPU time'));
  await shot('browser-job.png');
  await page.click(byTestId('detail-cancel'));
  await page.waitForSelector(`${byTestId(`job-row-${running.id}`)}[data-state="cancelled"]`, { timeout: TIMEOUT });
  check((await api('GET', `/api/jobs/${running.id}`)).job.state === 'cancelled', 'the daemon cancelled it');

  step = 'a finished attempt shows its CPU time and peak memory';
  await until('the cancelled attempt’s figures', async () =>
    (await text('attempt-cpu-1')) !== '—' && /B$/.test(await text('attempt-memory-1')));

  step = 'a job added elsewhere appears without a reload';
  const added = await api('POST', '/api/jobs', { cmd: ['sh', '-c', 'echo added elsewhere'] });
  await page.click(byTestId('detail-close'));
  await page.waitForSelector(`${byTestId(`job-row-${added.id}`)}[data-state="succeeded"]`, { timeout: TIMEOUT });
  await samePage();
  await shot('browser-jobs.png');

  step = 'the Workers page shows the pool live, and scales, stops and starts it';
  await page.click(byTestId('nav-workers'));
  await page.waitForSelector(`${byTestId('worker-emb-0')}[data-state="idle"]`, { timeout: TIMEOUT });
  await until('the pool to say it is ready', async () => (await text('pool-status-emb')) === '1 of 1 ready');
  await page.fill(byTestId('pool-count-emb'), 'many');
  await page.click(byTestId('pool-scale-emb'));
  await until('the refusal naming the pool', async () => {
    const m = await page.locator(`${byTestId('message')}[data-kind="error"]`).last().textContent();
    return m?.includes('pool emb') && m.includes('“many”');
  });
  await page.fill(byTestId('pool-count-emb'), '2');
  await page.click(byTestId('pool-scale-emb'));
  await page.waitForSelector(`${byTestId('worker-emb-1')}[data-state="idle"]`, { timeout: TIMEOUT });
  check((await api('GET', '/api/pools'))[0].count === 2, 'the daemon scaled the pool');
  const job = await api('POST', '/api/jobs', { cmd: ['echo', 'from the page'], queue: 'embed' });
  await until('the job to run on a worker', async () => (await api('GET', `/api/jobs/${job.id}`)).job.state === 'succeeded');
  await until('the page to count it on its worker', async () => {
    const done = await page.locator(`${byTestId('pool-emb')} tr[data-done]`).evaluateAll((rows) =>
      rows.reduce((n, r) => n + Number(r.getAttribute('data-done')), 0));
    return done === 1;
  });
  await shot('browser-workers.png');
  await page.click(byTestId('pool-toggle-emb'));
  await page.waitForSelector(`${byTestId('pool-emb')}[data-stopped="true"]`, { timeout: TIMEOUT });
  await until('every worker stopped', async () => (await api('GET', '/api/pools'))[0].workers.every((w) => w.state === 'stopped'));
  await page.click(byTestId('pool-toggle-emb'));
  await page.waitForSelector(`${byTestId('pool-emb')}[data-stopped="false"]`, { timeout: TIMEOUT });
  await page.waitForSelector(`${byTestId('worker-emb-1')}[data-state="idle"]`, { timeout: TIMEOUT });

  step = 'an incident is in the banner, appears live on the Incidents page, and is acted on there';
  // The scene's failure made one for the default queue; the banner names it on every page.
  await page.waitForSelector(byTestId('incidents-banner'), { timeout: TIMEOUT });
  await page.click(byTestId('nav-incidents'));
  await page.waitForSelector(byTestId('incidents-table'), { timeout: TIMEOUT });
  const before = (await api('GET', '/api/incidents')).length;
  for (let n = 0; n < 3; n++) {
    await api('POST', '/api/jobs', { cmd: ['sh', '-c', 'exit 3'], queue: 'mail', max_attempts: 1 });
  }
  const mail = await until('an incident for queue mail', async () =>
    (await api('GET', '/api/incidents')).find((i) => i.queue === 'mail'));
  check((await api('GET', '/api/incidents')).length === before + 1, 'one new incident');
  await page.waitForSelector(byTestId(`incident-${mail.id}`), { timeout: TIMEOUT });
  await page.click(byTestId(`incident-${mail.id}`));
  await page.waitForSelector(`${byTestId('incident-detail')}[data-id="${mail.id}"]`, { timeout: TIMEOUT });
  check((await text('incident-description')).includes('queue mail'), 'the detail says what triggered it');
  await page.click(byTestId('incident-ack'));
  await until('the daemon to have it acknowledged from the window', async () => {
    const i = await api('GET', `/api/incidents/${mail.id}`);
    return i.acknowledged_at && i.timeline.some((e) => e.kind === 'acknowledged' && e.door === 'window');
  });
  await page.waitForSelector(`${byTestId('incident-detail')}[data-state="acknowledged"]`, { timeout: TIMEOUT });
  await shot('browser-incidents.png');
  await page.click(byTestId('incident-resolve'));
  await until('the daemon to have it resolved', async () =>
    (await api('GET', `/api/incidents/${mail.id}`)).state === 'resolved');
  await page.waitForSelector(`${byTestId('incident-detail')}[data-state="resolved"]`, { timeout: TIMEOUT });

  step = 'no page error and no CSP violation';
  check(problems.length === 0, problems.join('\n'));
  console.log('all checks held');
} catch (e) {
  console.error(`FAILED at: ${step}\n${e.stack ?? e}`);
  if (problems.length) console.error(problems.join('\n'));
  if (page) await page.screenshot({ path: join(artifacts, 'browser-failure.png') }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
