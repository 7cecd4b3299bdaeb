// Provisions one service's schema and roles (<svc>_owner, <svc>_app) by calling
// provisionServiceDatabase() from libs/platform (the tested implementation, not a copy of
// its SQL). Runs inside the service image (WORKDIR /app) as a Helm pre-install/pre-upgrade
// hook. Every secret comes from a mounted file; nothing secret is logged.
import { readFileSync } from 'node:fs';
import { provisionServiceDatabase } from '/app/libs/platform/dist/database-provision.js';

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}
const secretFile = (name) => readFileSync(env(name), 'utf8').trim();

const url = new URL('postgresql://localhost');
url.hostname = env('CUSTODY_DB_HOST');
url.port = env('CUSTODY_DB_PORT');
url.pathname = `/${env('CUSTODY_DB_NAME')}`;
url.username = secretFile('CUSTODY_DB_ADMIN_USER_FILE');
url.password = secretFile('CUSTODY_DB_ADMIN_PASSWORD_FILE');
url.searchParams.set('sslmode', env('CUSTODY_DB_SSLMODE'));
if (process.env.CUSTODY_DB_CA_FILE) url.searchParams.set('sslrootcert', process.env.CUSTODY_DB_CA_FILE);

const service = env('CUSTODY_SERVICE');
const ownerPassword = secretFile('CUSTODY_DB_OWNER_PASSWORD_FILE');
const appPassword = secretFile('CUSTODY_DB_APP_PASSWORD_FILE');
const roles = await provisionServiceDatabase(url.toString(), { service, ownerPassword, appPassword });
console.log(JSON.stringify({ level: 'info', msg: 'database provisioned', service, ...roles }));
