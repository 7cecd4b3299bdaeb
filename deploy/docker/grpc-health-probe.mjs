// gRPC health check (grpc.health.v1.Health/Check) over mutual TLS, for Kubernetes exec probes:
// kubelet's built-in `grpc:` probe cannot speak TLS, and the services serve gRPC with mTLS only.
// Run inside the service container (`node grpc-health-probe.mjs`, the image's entrypoint is
// node); it reads the container's own environment (set by the Helm chart):
//   CUSTODY_GRPC_HOST, CUSTODY_GRPC_PORT            where the server listens (the pod IP)
//   CUSTODY_GRPC_TLS                                mtls (default) | insecure
//   CUSTODY_GRPC_TLS_CERT_FILE, _KEY_FILE           the pod's own certificate (client auth usage)
//   CUSTODY_GRPC_TLS_CLIENT_CA_FILE                 the CA that must have signed the server
//   CUSTODY_GRPC_TLS_SERVER_NAME                    name expected in the server certificate
//   CUSTODY_GRPC_PROBE_SERVICE (default "": the whole server), CUSTODY_GRPC_PROBE_TIMEOUT (ms)
// Exit 0 only for SERVING; 1 for anything else (NOT_SERVING, refused handshake, timeout).
// Prints one line on failure: the status or error, never file contents.
import { readFileSync } from 'node:fs';
import grpc from '@grpc/grpc-js';

const env = process.env;
const fail = (why) => {
  process.stderr.write(`grpc health probe: ${why}\n`);
  process.exit(1);
};

const host = env.CUSTODY_GRPC_HOST || '127.0.0.1';
const port = Number(env.CUSTODY_GRPC_PORT || '50051');
const timeoutMs = Number(env.CUSTODY_GRPC_PROBE_TIMEOUT || '1500');
const service = env.CUSTODY_GRPC_PROBE_SERVICE || '';
if (!Number.isInteger(port) || port < 1 || port > 65535) fail('CUSTODY_GRPC_PORT is not a port');
if (!Number.isInteger(timeoutMs) || timeoutMs < 1) fail('CUSTODY_GRPC_PROBE_TIMEOUT is not a positive integer (ms)');

let credentials;
const options = {};
if ((env.CUSTODY_GRPC_TLS || 'mtls') === 'insecure') {
  credentials = grpc.credentials.createInsecure();
} else {
  const files = ['CUSTODY_GRPC_TLS_CLIENT_CA_FILE', 'CUSTODY_GRPC_TLS_KEY_FILE', 'CUSTODY_GRPC_TLS_CERT_FILE'];
  const missing = files.filter((name) => !env[name]);
  if (missing.length > 0) fail(`mtls needs ${missing.join(', ')}`);
  let pem;
  try {
    pem = files.map((name) => readFileSync(env[name]));
  } catch (error) {
    fail(`cannot read a TLS file (${error.code ?? 'error'})`);
  }
  credentials = grpc.credentials.createSsl(pem[0], pem[1], pem[2]);
  if (env.CUSTODY_GRPC_TLS_SERVER_NAME) {
    options['grpc.ssl_target_name_override'] = env.CUSTODY_GRPC_TLS_SERVER_NAME;
    options['grpc.default_authority'] = env.CUSTODY_GRPC_TLS_SERVER_NAME;
  }
}

// HealthCheckRequest { string service = 1; } and HealthCheckResponse { ServingStatus status = 1; }
// encoded by hand: no proto loading on every probe.
const serviceBytes = Buffer.from(service, 'utf8');
if (serviceBytes.length > 127) fail('CUSTODY_GRPC_PROBE_SERVICE is too long');
const request = serviceBytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, serviceBytes.length]), serviceBytes]);
const decodeStatus = (buf) => {
  for (let i = 0; i < buf.length; ) {
    const tag = buf[i++];
    if (tag === 0x08) return buf[i] ?? 0; // field 1, varint; statuses are < 128
    if ((tag & 0x07) === 2) i += 1 + (buf[i] ?? 0); // skip unknown length-delimited field
    else if ((tag & 0x07) === 0) while ((buf[i++] ?? 0) & 0x80);
    else return -1;
  }
  return 0; // proto3 default: UNKNOWN
};
const STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
const client = new grpc.Client(address, credentials, options);
client.makeUnaryRequest(
  '/grpc.health.v1.Health/Check',
  (b) => b,
  (b) => b,
  request,
  new grpc.Metadata(),
  { deadline: Date.now() + timeoutMs },
  (error, response) => {
    client.close();
    if (error) fail(`${grpc.status[error.code] ?? error.code}: ${error.details}`);
    const status = decodeStatus(response);
    if (status !== 1) fail(`status ${STATUS[status] ?? status}`);
    process.exit(0);
  },
);
