import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { postGraphQL, startProcess, waitFor } from './process.ts';

// The OTLP exporter, switched on by the standard variables: the server's spans reach a collector
// (here a stub answering OTLP/HTTP JSON), flushed at the latest when the process stops.

describe('OTLP export', () => {
  it('sends the operation and upstream spans to OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const bodies: string[] = [];
    const collector = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        if (req.url === '/v1/traces') bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    const facade = startProcess(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      NODE_ENV: 'test',
      PORT: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'keeper-scim-graphql-test',
      // The query's own upstream calls are traced; from the directory mirror it would make none.
      MIRROR: 'off',
    });
    try {
      const [, facadePort] = await waitFor(facade, /GraphQL at http:\/\/localhost:(\d+)\/graphql/);
      expect(facade.output()).toContain('tracing on');
      const answer = await postGraphQL(
        `http://127.0.0.1:${facadePort}/graphql`,
        'query Traced { users(first: 2) { totalCount } }',
      );
      expect(answer.status).toBe(200);
      facade.child.kill('SIGTERM');
      expect(await facade.exited).toBe(0);
      const exported = bodies.join('\n');
      expect(exported).toContain('"stringValue":"keeper-scim-graphql-test"');
      expect(exported).toContain('"name":"query Traced"');
      expect(exported).toContain('"name":"GET /Users"');
    } finally {
      if (facade.child.exitCode === null) facade.child.kill('SIGKILL');
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });
});
