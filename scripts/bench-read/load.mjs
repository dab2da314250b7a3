// One load of the read benchmark, as its own process: autocannon GETs of one URL with fixed headers for a few
// seconds; prints one JSON line { reqPerSec, p50, p99, statusCodes, errors, bytesPerSec }.
//   node scripts/bench-read/load.mjs <url> <seconds> <connections> '<headers JSON>'
// Latency percentiles come from every answer's own time (ms, to the µs): autocannon's histogram keeps whole
// milliseconds, too coarse to compare answers that take 1-2 ms (1.9 ms would print as 1).
import autocannon from 'autocannon';

const [url, seconds = '3', connections = '20', headers = '{}'] = process.argv.slice(2);
const latencies = [];
const instance = autocannon({ url, duration: Number(seconds), connections: Number(connections), headers: JSON.parse(headers), timeout: 10 });
instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
  if (statusCode < 400) latencies.push(responseTimeMs);
});
const result = await instance;
latencies.sort((a, b) => a - b);
const percentile = (p) => (latencies.length ? Number(latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)].toFixed(2)) : 0);
const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
process.stdout.write(
  `${JSON.stringify({
    reqPerSec: Math.round(total / Number(seconds)),
    p50: percentile(50),
    p99: percentile(99),
    statusCodes,
    errors: result.errors + result.timeouts,
    bytesPerSec: Math.round(result.throughput.average),
  })}\n`,
);
