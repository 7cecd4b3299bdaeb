// `node --import <this file>`: installs hooks.mjs, and fails any outbound network attempt
// loudly (recorded in the log), in addition to the empty network namespace the test uses.
import { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import dns from 'node:dns';

const logFile = process.env.OFFLINE_CLI_MODULE_LOG;
register('./hooks.mjs', import.meta.url, { data: { logFile } });

const denied = (what) =>
  function () {
    if (logFile) appendFileSync(logFile, `${JSON.stringify({ network: what })}\n`);
    throw new Error(`network access attempted: ${what}`);
  };
net.Socket.prototype.connect = denied('net.Socket.connect');
net.Server.prototype.listen = denied('net.Server.listen');
dgram.Socket.prototype.bind = denied('dgram.bind');
dgram.Socket.prototype.send = denied('dgram.send');
dns.lookup = denied('dns.lookup');
dns.promises.lookup = denied('dns.promises.lookup');
