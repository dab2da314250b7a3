// The markdown tables and the target checks of bench-scale. Targets are checked on the figures net of the idle
// background (what a publish itself costs) and, in brackets, on the gross figures (delta ÷ publishes).
import { median } from './phase.mjs';

const fmt = (v, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const int = (v) => v.toLocaleString('en-US');
const verdict = (ok) => (ok ? 'ok' : 'MISSED');

function mainTable(rows) {
  const lines = [
    '| Redis | nodes | K stories per node | sockets | Redis CPU µs/publish | net of idle | floor, net | ÷ floor (net) | Redis commands/publish | node CPU µs/publish | delivered/expected |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const exact = r.duplicates === 0 && r.failures === 0 && r.closed === 0 && r.strays === 0;
    lines.push(
      `| ${r.topology} | ${r.nodes} | ${int(r.k)} | ${r.sockets} | ${fmt(r.redisUs)} | ${fmt(r.redisNetUs)} | ${fmt(r.floorNetUs)} | ${fmt(r.floorRatio, 2)} | ` +
        `${fmt(r.commands, 2)} | ${fmt(r.nodeUs, 0)} | ${int(r.delivered)}/${int(r.expected)}${exact ? '' : ` (${r.duplicates} dup, ${r.failures} failed, ${r.closed} closed, ${r.strays} strays)`} |`,
    );
  }
  return lines.join('\n');
}

function floorTable(floors, perSubscriber, spreadCost) {
  const lines = [
    '| Redis | floor: subscriber processes | Redis CPU µs/publish | net of idle | Redis commands/publish | delivered/expected |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const f of floors) lines.push(`| ${f.topology} | ${f.label ?? f.subscribers} | ${fmt(f.redisUs)} | ${fmt(f.redisNetUs)} | ${fmt(f.commands, 2)} | ${int(f.delivered)}/${int(f.expected)} |`);
  for (const [topology, p] of Object.entries(perSubscriber)) lines.push(`| ${topology} | one − none (median of per-round differences) | ${fmt(p.gross)} | ${fmt(p.net)} | | |`);
  for (const [topology, p] of Object.entries(spreadCost)) {
    lines.push(`| ${topology} | none: ${p.publishers} publisher processes − 1 (median of per-round differences) | ${fmt(p.gross)} | ${fmt(p.net)} | | |`);
  }
  return lines.join('\n');
}

function targets(rows, perSubscriber, spreadCost, opts) {
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
    const perSub = perSubscriber[topology];
    const maxNodes = Math.max(...opts.nodes);
    if (perSub && opts.nodes.includes(1) && maxNodes > 1) {
      for (const k of opts.ks) {
        const one = find(topology, 1, k);
        const many = find(topology, maxNodes, k);
        if (!one || !many) continue;
        const capNet = one.redisNetUs + (maxNodes - 1) * perSub.net;
        const capGross = one.redisUs + (maxNodes - 1) * perSub.gross;
        out.push(
          `- K=${int(k)}: ${maxNodes} nodes ${fmt(many.redisNetUs)} µs ≤ 1 node ${fmt(one.redisNetUs)} + ${maxNodes - 1} × ${fmt(perSub.net, 1)} (floor: one subscriber − none) = ${fmt(capNet)}: ` +
            `${verdict(many.redisNetUs <= capNet)} (gross ${fmt(many.redisUs)} ≤ ${fmt(capGross)}: ${verdict(many.redisUs <= capGross)})`,
        );
      }
      // The same target pooled over K. Round r of the 1-node system and round r of the 4-node one run back to back,
      // so each round gives one difference; K changes nothing per node (the flat-in-stories lines), so every K's
      // rounds measure the same difference, and the median of all of them is steadier than one K's five (whose
      // per-round differences spread over ±50 µs on this machine).
      const differences = (key) =>
        opts.ks.flatMap((k) => {
          const one = find(topology, 1, k);
          const many = find(topology, maxNodes, k);
          return one && many ? many[key].map((v, i) => v - one[key][i]).filter(Number.isFinite) : [];
        });
      const netDifferences = differences('redisNetUsPerRound');
      const pooledNet = median(netDifferences);
      const pooledGross = median(differences('redisUsPerRound'));
      out.push(
        `- pooled over K: median of the ${netDifferences.length} per-round differences ${maxNodes} nodes − 1 node = ${fmt(pooledNet)} µs ≤ ` +
          `${maxNodes - 1} × ${fmt(perSub.net, 1)} = ${fmt((maxNodes - 1) * perSub.net)}: ${verdict(pooledNet <= (maxNodes - 1) * perSub.net)} ` +
          `(gross ${fmt(pooledGross)} ≤ ${fmt((maxNodes - 1) * perSub.gross)}: ${verdict(pooledGross <= (maxNodes - 1) * perSub.gross)})`,
      );
      // Not the target: the same check with the floor's own cost of ingest arriving through as many processes
      // as nodes added to the allowance (the target's allowance counts subscribers only).
      const spread = spreadCost[topology];
      if (spread) {
        const checks = opts.ks.flatMap((k) => {
          const one = find(topology, 1, k);
          const many = find(topology, maxNodes, k);
          if (!one || !many) return [];
          const cap = one.redisNetUs + (maxNodes - 1) * perSub.net + spread.net;
          return [`K=${int(k)} ${fmt(many.redisNetUs)} ≤ ${fmt(cap)}: ${verdict(many.redisNetUs <= cap)}`];
        });
        out.push(`- also counting spread ingest (floor: ${spread.publishers} publisher processes − 1 = ${fmt(spread.net)} µs, net; not the target): ${checks.join('; ')}`);
      }
    }
    const mine = rows.filter((r) => r.topology === topology);
    const worst = mine.reduce((a, b) => (b.floorRatio > a.floorRatio ? b : a), mine[0]);
    if (worst) {
      out.push(
        `- Redis CPU/publish ÷ floor with as many subscribers as nodes (median of per-round ratios): at most ${fmt(worst.floorRatio, 2)} ` +
          `(gross ${fmt(Math.max(...mine.map((r) => r.floorRatioGross)), 2)}), worst at ${worst.nodes} node(s), K=${int(worst.k)}; ` +
          `target ≤ 3: ${verdict(mine.every((r) => r.floorRatio <= 3))} (gross ${verdict(mine.every((r) => r.floorRatioGross <= 3))})`,
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
export function report(rows, floors, perSubscriber, spreadCost, opts) {
  return `${mainTable(rows)}\n\n${floorTable(floors, perSubscriber, spreadCost)}\n\nTargets (net of idle; gross in brackets):\n${targets(rows, perSubscriber, spreadCost, opts)}`;
}
