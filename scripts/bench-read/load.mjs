// One load of the read benchmark, as its own process: autocannon GETs of one URL with fixed headers for a few
// seconds; prints one JSON line { reqPerSec, p50, p99, statusCodes, errors, bytesPerSec }.
//   node scripts/bench-read/load.mjs <url> <seconds> <connections> '<headers JSON>'
import autocannon from 'autocannon';

const [url, seconds = '3', connections = '20', headers = '{}'] = process.argv.slice(2);
const result = await autocannon({ url, duration: Number(seconds), connections: Number(connections), headers: JSON.parse(headers), timeout: 10 });
const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
process.stdout.write(
  `${JSON.stringify({
    reqPerSec: Math.round(total / Number(seconds)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    statusCodes,
    errors: result.errors + result.timeouts,
    bytesPerSec: Math.round(result.throughput.average),
  })}\n`,
);
