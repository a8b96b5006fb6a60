// `node dist/sim/main.js --port N [--host H] [--latency-ms N] [--chunk-interval-ms N] [--mode M]
// [--models a,b] [--engine vllm|ollama] [--legacy-names] [--responses]`: the simulated upstream as its own
// process, for benches, fault tests and the demo.
import { parseArgs } from 'node:util';
import { SIM_MODES, startSimUpstream, type SimMode } from './upstream.js';

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`sim: --${name} must be a non-negative integer\n`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'latency-ms': { type: 'string' },
    'chunk-interval-ms': { type: 'string' },
    'completion-tokens': { type: 'string' },
    mode: { type: 'string', default: 'ok' },
    models: { type: 'string' },
    engine: { type: 'string' },
    'legacy-names': { type: 'boolean', default: false },
    responses: { type: 'boolean', default: false },
  },
  strict: true,
});

if (!(SIM_MODES as readonly string[]).includes(values.mode!)) {
  process.stderr.write(`sim: --mode must be one of ${SIM_MODES.join(', ')}\n`);
  process.exit(2);
}

if (values.engine !== undefined && values.engine !== 'vllm' && values.engine !== 'ollama') {
  process.stderr.write('sim: --engine must be vllm or ollama\n');
  process.exit(2);
}

const sim = await startSimUpstream({
  host: values.host,
  port: int('port', values.port, 0),
  latencyMs: int('latency-ms', values['latency-ms'], 0),
  chunkIntervalMs: int('chunk-interval-ms', values['chunk-interval-ms'], 0),
  completionTokens: int('completion-tokens', values['completion-tokens'], 8) || 8,
  mode: values.mode as SimMode,
  models: values.models ? values.models.split(',').filter(Boolean) : undefined,
  recordRequests: false,
  engine: values.engine as 'vllm' | 'ollama' | undefined,
  engineSettings: { legacyNames: values['legacy-names'] },
  responses: values.responses,
});
process.stdout.write(JSON.stringify({ event: 'sim_listening', url: sim.url, port: sim.port }) + '\n');
const stop = () => void sim.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
