// A small HTTP server for Prometheus scrapes (GET /metrics) and liveness (GET /healthz).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { DEFAULT_LISTEN_HOST, assertListenHost, formatHostPort } from './listen-address.js';

/** Resolves true when the service is healthy; a throw or false answers 503. */
export type HealthCheck = () => boolean | Promise<boolean>;

export interface MetricsServerOptions {
  readonly registry: Registry;
  readonly port: number;
  /** Default 127.0.0.1. All interfaces ('0.0.0.0', '::') are refused unless allowAllInterfaces. */
  readonly host?: string;
  readonly allowAllInterfaces?: boolean;
  readonly healthCheck?: HealthCheck;
}

export interface MetricsServer {
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** e.g. http://127.0.0.1:9464 */
  readonly url: string;
  close(): Promise<void>;
}

async function handle(req: IncomingMessage, res: ServerResponse, options: MetricsServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics' && path !== '/healthz') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
    return;
  }
  if (path === '/metrics') {
    const body = await options.registry.metrics();
    res.writeHead(200, { 'content-type': options.registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  let healthy: boolean;
  try {
    healthy = options.healthCheck ? await options.healthCheck() : true;
  } catch {
    healthy = false;
  }
  res
    .writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' })
    .end(req.method === 'HEAD' ? undefined : JSON.stringify({ status: healthy ? 'ok' : 'unavailable' }));
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? DEFAULT_LISTEN_HOST;
  assertListenHost(host, options.allowAllInterfaces);
  const server = createServer((req, res) => {
    handle(req, res, options).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: host.replace(/^\[|\]$/g, ''), port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `http://${formatHostPort(host, port)}`,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
