// The metrics endpoint scraped over real HTTP on 127.0.0.1.
import { describe, it, expect, afterEach } from '@jest/globals';
import { request } from 'node:http';
import { createCounter, createMetrics, startMetricsServer, type MetricsServer } from '../../src/index.js';
import { parseSamples, sampleValue } from '../fixtures/prometheus.js';

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const started: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function start(options: Omit<Parameters<typeof startMetricsServer>[0], 'port'> & { port?: number }) {
  const server = await startMetricsServer({ port: 0, ...options });
  started.push(server);
  return server;
}

describe('startMetricsServer', () => {
  it('serves Prometheus text with custom and default metrics on an OS-chosen port', async () => {
    const registry = createMetrics('intake');
    const requests = createCounter(registry, {
      name: 'custody_intake_requests_total',
      help: 'Requests by method and outcome.',
      labels: { method: ['SubmitWithdrawal', 'GetWithdrawal'], outcome: ['ok', 'error'] },
    });
    requests.inc({ method: 'SubmitWithdrawal', outcome: 'ok' }, 3);
    requests.inc({ method: 'GetWithdrawal', outcome: 'error' });

    const server = await start({ registry });
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);

    const res = await get(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    expect(res.body).toContain('# TYPE custody_intake_requests_total counter');
    expect(sampleValue(res.body, 'custody_intake_requests_total', { method: 'SubmitWithdrawal', outcome: 'ok', service: 'intake' })).toBe(3);
    expect(sampleValue(res.body, 'custody_intake_requests_total', { method: 'GetWithdrawal', outcome: 'error', service: 'intake' })).toBe(1);
    expect(sampleValue(res.body, 'custody_intake_requests_total', { method: 'GetWithdrawal', outcome: 'ok', service: 'intake' })).toBe(0);
    // every series carries the service label
    const samples = parseSamples(res.body);
    expect(samples.length).toBeGreaterThan(20);
    expect(samples.every((s) => s.labels.service === 'intake')).toBe(true);

    // a later increment shows up on the next scrape
    requests.inc({ method: 'SubmitWithdrawal', outcome: 'ok' });
    const again = await get(`${server.url}/metrics`);
    expect(sampleValue(again.body, 'custody_intake_requests_total', { method: 'SubmitWithdrawal', outcome: 'ok', service: 'intake' })).toBe(4);
  });

  it('answers /healthz from the health check: 200, 503 on false or throw', async () => {
    let state: boolean | 'throw' = true;
    const server = await start({
      registry: createMetrics('audit'),
      healthCheck: () => {
        if (state === 'throw') throw new Error('db down');
        return state;
      },
    });
    expect(await get(`${server.url}/healthz`)).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    state = false;
    expect(await get(`${server.url}/healthz`)).toMatchObject({ status: 503, body: '{"status":"unavailable"}' });
    state = 'throw';
    const failing = await get(`${server.url}/healthz`);
    expect(failing).toMatchObject({ status: 503 });
    expect(failing.body).not.toContain('db down');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const server = await start({ registry: createMetrics('risk') });
    expect((await get(`${server.url}/`)).status).toBe(404);
    expect((await get(`${server.url}/metrics`, 'POST')).status).toBe(405);
    expect((await get(`${server.url}/metrics?x=1`)).status).toBe(200);
  });

  it('refuses all interfaces unless allowed, and closes for real', async () => {
    await expect(startMetricsServer({ registry: createMetrics('ledger'), port: 0, host: '0.0.0.0' })).rejects.toThrow(/all interfaces/);
    const server = await startMetricsServer({ registry: createMetrics('ledger'), port: 0 });
    await server.close();
    await server.close(); // idempotent
    await expect(get(`${server.url}/metrics`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('reports a port that is already taken', async () => {
    const first = await start({ registry: createMetrics('signer') });
    await expect(startMetricsServer({ registry: createMetrics('signer'), port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
