import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Files of a throw-away certificate authority and a server certificate it signed (PEM). */
export interface TestCertificates {
  readonly dir: string;
  /** The CA's certificate: what a client trusts. */
  readonly ca: string;
  /** The server's private key and certificate, valid for 127.0.0.1 and localhost. */
  readonly key: string;
  readonly cert: string;
  /** Another CA's certificate, which did not sign the server's: trusting it alone must fail. */
  readonly otherCa: string;
  /** Deletes the files. */
  dispose(): void;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Makes a CA and a server certificate signed by it with `openssl` in a temporary folder (P-256 keys,
 * valid two days, subjectAltName IP:127.0.0.1 and DNS:localhost), for TLS tests of the model server and
 * of Redis. Test support only.
 */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'engram-certs-'));
  openssl(
    ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=engram-test-ca'],
    dir,
  );
  openssl(['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
    ].concat(['-days', '2', '-extfile', 'ext.cnf']),
    dir,
  );
  openssl(
    ['req', '-x509', ...EC, '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=other-ca'],
    dir,
  );
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    key: join(dir, 'server.key'),
    cert: join(dir, 'server.crt'),
    otherCa: join(dir, 'other.crt'),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
