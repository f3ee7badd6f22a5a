import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's redis-server lives (`.ci/run` installs it). */
export const REDIS_SERVER = process.env['ENGRAM_REDIS_SERVER'] ?? '/usr/bin/redis-server';

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** Append-only file with fsync on every write, so a stopped and restarted server keeps its streams. */
  readonly persistence?: boolean;
  /** `--requirepass`: the default user's password. */
  readonly password?: string;
  /** An ACL user with every right (`--user NAME on >PASSWORD ~* &* +@all`). */
  readonly user?: { readonly name: string; readonly password: string };
  /** Serve TLS only (`--port 0 --tls-port`), with these PEM files; clients need not present certificates. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly ca: string };
}

export * from './test-certificates.js';

/**
 * A `redis-server` process started by a test on a free loopback port, with its own data folder.
 * Test support only (not exported from the package index; import `@engram/datasets/testing`).
 */
export class TestRedis {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  /** `redis://127.0.0.1:<port>` (`rediss://` with TLS), without credentials. */
  get url(): string {
    return `${this.options.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  /** {@link url} with credentials: `user:password@` (an empty user: the default user). */
  urlAs(user: string, password: string): string {
    return this.url.replace('//', `//${encodeURIComponent(user)}:${encodeURIComponent(password)}@`);
  }

  /** Starts a server on a free port; resolves once it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<TestRedis> {
    const server = new TestRedis(await freePort(), mkdtempSync(join(tmpdir(), 'engram-redis-')), options);
    await server.launch();
    return server;
  }

  /** Stops the process (SIGTERM: with persistence the append-only file is flushed) and waits for its exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** Starts the process again on the same port and data folder (after {@link stop}). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the server and deletes its data folder. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const persistence =
      this.options.persistence === true
        ? ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
        : ['--save', '', '--appendonly', 'no'];
    const o = this.options;
    const ports = o.tls
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', o.tls.cert, '--tls-key-file', o.tls.key]
      : ['--port', String(this.port)];
    const tls = o.tls ? ['--tls-ca-cert-file', o.tls.ca, '--tls-auth-clients', 'no'] : [];
    const auth = [
      ...(o.password !== undefined ? ['--requirepass', o.password] : []),
      ...(o.user ? ['--user', o.user.name, 'on', `>${o.user.password}`, '~*', '&*', '+@all'] : []),
    ];
    const child = spawn(
      REDIS_SERVER,
      [...ports, ...tls, '--bind', '127.0.0.1', '--dir', this.dir, ...persistence, ...auth],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    this.child = child;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new Error(`cannot start ${REDIS_SERVER}: ${e.message}`)));
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (!(await Promise.race([ping(this.port, o), failed]))) {
      if (Date.now() > deadline)
        throw new Error(`redis-server on port ${this.port} did not answer PING in 10 s: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts a throw-away server (see {@link TestRedis}). */
export function startRedis(options: RedisServerOptions = {}): Promise<TestRedis> {
  return TestRedis.start(options);
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Whether a server on `port` answers PING with PONG (also false while it loads its data), logging in
 * first (AUTH) and over TLS as the options say.
 */
function ping(port: number, o: RedisServerOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = o.tls
      ? tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(o.tls.ca) })
      : connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    const auth = o.password !== undefined ? `AUTH ${o.password}\r\n` : '';
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once(o.tls ? 'secureConnect' : 'connect', () => socket.write(`${auth}PING\r\n`));
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
      const lines = answer.split('\r\n');
      if (lines.length > (auth ? 2 : 1)) done(lines[auth ? 1 : 0]?.startsWith('+PONG') === true);
    });
  });
}
