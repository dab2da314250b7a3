// The markdown tables and the target checks of bench-scale. Targets are checked on the figures net of the idle
// background (what a publish itself costs) and, in brackets, on the gross figures (delta ÷ publishes).

const fmt = (v, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const int = (v) => v.toLocaleString('en-US');
const verdict = (ok) => (ok ? 'ok' : 'MISSED');

function floorFor(floors, topology, subscribers) {
  return floors.find((f) => f.topology === topology && f.subscribers === subscribers);
}

function mainTable(rows, floors) {
  const lines = [
    '| Redis | nodes | K stories per node | sockets | Redis CPU µs/publish | net of idle | ÷ floor (net) | Redis commands/publish | node CPU µs/publish | delivered/expected |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const floor = floorFor(floors, r.topology, r.nodes);
    const exact = r.duplicates === 0 && r.failures === 0 && r.closed === 0 && r.strays === 0;
    lines.push(
      `| ${r.topology} | ${r.nodes} | ${int(r.k)} | ${r.sockets} | ${fmt(r.redisUs)} | ${fmt(r.redisNetUs)} | ${fmt(r.redisNetUs / floor?.redisNetUs, 2)} | ` +
        `${fmt(r.commands, 2)} | ${fmt(r.nodeUs, 0)} | ${int(r.delivered)}/${int(r.expected)}${exact ? '' : ` (${r.duplicates} dup, ${r.failures} failed, ${r.closed} closed, ${r.strays} strays)`} |`,
    );
  }
  return lines.join('\n');
}

function floorTable(floors) {
  const lines = [
    '| Redis | floor: subscribed connections | Redis CPU µs/publish | net of idle | Redis commands/publish | delivered/expected |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const f of floors) lines.push(`| ${f.topology} | ${f.subscribers} | ${fmt(f.redisUs)} | ${fmt(f.redisNetUs)} | ${fmt(f.commands, 2)} | ${int(f.delivered)}/${int(f.expected)} |`);
  return lines.join('\n');
}

function targets(rows, floors, opts) {
  const out = [];
  const kMin = Math.min(...opts.ks);
  const kMax = Math.max(...opts.ks);
  const topologies = [...new Set(rows.map((r) => r.topology))];
  const find = (topology, nodes, k) => rows.find((r) => r.topology === topology && r.nodes === nodes && r.k === k);
  for (const topology of topologies) {
    out.push(`${topology}:`);
    for (const nodes of opts.nodes) {
      const lo = find(topology, nodes, kMin);
      const hi = find(topology, nodes, kMax);
      if (!lo || !hi || kMin === kMax) continue;
      const net = hi.redisNetUs / lo.redisNetUs;
      const gross = hi.redisUs / lo.redisUs;
      out.push(`- ${nodes} node(s): Redis CPU/publish K=${int(kMax)} ÷ K=${int(kMin)} = ${fmt(net, 2)} (gross ${fmt(gross, 2)}); target ≤ 1.5: ${verdict(net <= 1.5)} (gross ${verdict(gross <= 1.5)})`);
    }
    const f0 = floorFor(floors, topology, 0);
    const f1 = floorFor(floors, topology, 1);
    const maxNodes = Math.max(...opts.nodes);
    if (f0 && f1 && opts.nodes.includes(1) && maxNodes > 1) {
      const perSubNet = f1.redisNetUs - f0.redisNetUs;
      const perSubGross = f1.redisUs - f0.redisUs;
      for (const k of opts.ks) {
        const one = find(topology, 1, k);
        const many = find(topology, maxNodes, k);
        if (!one || !many) continue;
        const capNet = one.redisNetUs + (maxNodes - 1) * perSubNet;
        const capGross = one.redisUs + (maxNodes - 1) * perSubGross;
        out.push(
          `- K=${int(k)}: ${maxNodes} nodes ${fmt(many.redisNetUs)} µs ≤ 1 node ${fmt(one.redisNetUs)} + ${maxNodes - 1} × ${fmt(perSubNet, 2)} (floor: one subscriber − none) = ${fmt(capNet)}: ` +
            `${verdict(many.redisNetUs <= capNet)} (gross ${fmt(many.redisUs)} ≤ ${fmt(capGross)}: ${verdict(many.redisUs <= capGross)})`,
        );
      }
    }
    const ratios = rows.filter((r) => r.topology === topology).map((r) => [r, r.redisNetUs / floorFor(floors, topology, r.nodes)?.redisNetUs, r.redisUs / floorFor(floors, topology, r.nodes)?.redisUs]);
    const worst = ratios.reduce((a, b) => (b[1] > a[1] ? b : a), ratios[0]);
    if (worst) {
      out.push(
        `- Redis CPU/publish ÷ floor with as many subscribers as nodes: at most ${fmt(worst[1], 2)} (gross ${fmt(Math.max(...ratios.map((x) => x[2])), 2)}), ` +
          `worst at ${worst[0].nodes} node(s), K=${int(worst[0].k)}; target ≤ 3: ${verdict(ratios.every((x) => x[1] <= 3))} (gross ${verdict(ratios.every((x) => x[2] <= 3))})`,
      );
    }
    const bad = rows.filter((r) => r.topology === topology && (r.delivered !== r.expected || r.duplicates || r.failures || r.closed || r.strays));
    out.push(`- every subscribed socket got every publish exactly once: ${bad.length === 0 ? 'yes' : `NO (${bad.map((r) => `${r.nodes} node(s) K=${r.k}`).join(', ')})`}`);
    const retried = rows.filter((r) => r.topology === topology && r.retries > 0);
    if (retried.length) {
      out.push(`- subscriptions refused with redis_unavailable and sent again: ${retried.map((r) => `${r.retries} at ${r.nodes} node(s) K=${int(r.k)}`).join(', ')}`);
    }
  }
  return out.join('\n');
}

/** Tables and target lines for the rows of every configuration and the floor runs. */
export function report(rows, floors, opts) {
  return `${mainTable(rows, floors)}\n\n${floorTable(floors)}\n\nTargets (net of idle; gross in brackets):\n${targets(rows, floors, opts)}`;
}
