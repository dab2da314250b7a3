import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildService, type ChildService } from '../support/child-service.js';
import { families } from '../support/prometheus-text.js';
import { deletePrefix, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('metrics-dashboard');
let service: ChildService;

beforeAll(async () => {
  service = await startChildService(prefix, { METRICS_TOKEN: 'dashboard-token-0123456789' });
});
afterAll(async () => {
  service.process.kill('SIGTERM');
  await service.exited;
  await deletePrefix(prefix);
});

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

/** Every metric name the committed Grafana dashboard's queries use. */
function dashboardMetrics(): string[] {
  const dashboard = JSON.parse(readFileSync('docs/grafana-dashboard.json', 'utf8')) as Dashboard;
  const names = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => [...target.expr.matchAll(/\b(?:stoppress|process|nodejs)_[a-z0-9_]+/g)].map((m) => m[0])));
  return [...new Set(names)];
}

describe('docs/grafana-dashboard.json', () => {
  it('queries only metrics that a running service exports on /metrics', async () => {
    const response = await fetch(`${service.url}/metrics`, { headers: { authorization: 'Bearer dashboard-token-0123456789' } });
    expect(response.status).toBe(200);
    const exported = families(await response.text());
    const queried = dashboardMetrics();
    expect(queried).toContain('stoppress_ws_connections');
    // A histogram is queried through its _bucket, _sum and _count series; its family is named without them.
    const missing = queried.filter((name) => !exported.has(name) && !exported.has(name.replace(/_(bucket|sum|count)$/, '')));
    expect(missing).toEqual([]);
  });
});
