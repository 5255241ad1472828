/**
 * The load side of bench:api, in its own process: autocannon GETs `/traits` of random profiles (or
 * any fixed path) for a while on many connections, then prints its result as one JSON line.
 * argv: <url> <authorization> <profiles> <seconds> <connections> [fixed path]
 */
import autocannon from 'autocannon';

const [url, authorization, profiles, seconds, connections, fixed] = process.argv.slice(2);
const n = Number(profiles);
let seed = 0x9e3779b9;
// xorshift: a cheap, reproducible sequence of profile numbers
const next = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};

const instance = autocannon(
  {
    url: url!,
    connections: Number(connections),
    duration: Number(seconds),
    headers: { authorization: authorization! },
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: fixed ?? `/v1/spaces/spa_bench/collections/users/profiles/user_id:u${next()}/traits?limit=50` }),
      },
    ],
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    process.stdout.write(
      `${JSON.stringify({ total: result.requests.total, average: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, ok: result['2xx'] })}\n`,
    );
  },
);
process.on('SIGINT', () => instance.stop());
