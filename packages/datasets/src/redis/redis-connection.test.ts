import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startRedis } from '../testing/redis-server.js';
import { closeRedis, connectRedis, openRedis } from './redis-connection.js';

describe('Redis connection (against a real redis-server)', () => {
  it(
    'a command in flight when the server goes away fails (it does not wait forever), and the connection works again ' +
      'once the server is back',
    async () => {
      const server = await startRedis();
      const lost: string[] = [];
      let back = 0;
      const redis = openRedis(server.url, { onLost: (why) => lost.push(why), onBack: () => back++ });
      try {
        await connectRedis(redis);
        // A blocking read that would wait 30 s for an entry: in flight when the server stops.
        const read = redis.call('XREAD', 'BLOCK', 30_000, 'STREAMS', 'nothing-here', '$').then(
          () => 'answered',
          (e: Error) => e,
        );
        await new Promise((r) => setTimeout(r, 200));
        await server.stop();
        const outcome = await read;
        assert.ok(outcome instanceof Error, `the read ${String(outcome)}`);
        assert.match(outcome.message, /connection lost while the command was in flight/);
        await server.restart();
        assert.equal(await redis.call('PING'), 'PONG');
        assert.equal(lost.length, 1, lost.join('; '));
        assert.equal(back, 1);
      } finally {
        closeRedis(redis);
        await server.dispose();
      }
    },
  );
});
