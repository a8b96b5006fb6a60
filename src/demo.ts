// `ptui demo`: the dashboard on a throwaway home whose providers are an in-process simulated
// upstream, the real gateway as its child on a free port, and a gentle traffic generator, so a
// newcomer sees requests, budgets and the routing table move. The host panel is the real
// host; no GPU is invented. Everything is removed on the way out.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startSimUpstream } from './sim/upstream.js';
import { writeDemoConfig } from './demo/config.js';
import { startTraffic } from './demo/traffic.js';
import { runDashboard } from './tui/main.js';

export interface DemoOptions {
  refreshMs: number;
  /** requests per second of the synthetic client */
  rate?: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ptui-demo-'));
  const removeHome = () => fs.rmSync(home, { recursive: true, force: true });
  // Even a crash (the dashboard exits the process after restoring the terminal) leaves no files.
  process.once('exit', removeHome);
  const sim = await startSimUpstream({
    latencyMs: 60,
    chunkIntervalMs: 12,
    completionTokens: 64,
    recordRequests: false,
    models: ['llama-3.1-8b-instruct', 'gpt-4o', 'gpt-4o-mini', 'qwen2.5-coder-7b', 'bge-m3'],
  });
  // Latency that drifts, so p50/p95 and the request rows have something to show.
  const drift = setInterval(() => sim.setLatency(20 + Math.round(Math.random() * 280)), 4000);
  drift.unref();
  let traffic: ReturnType<typeof startTraffic> | null = null;
  try {
    writeDemoConfig(home, sim.url);
    const port = await freePort();
    traffic = startTraffic({ baseUrl: `http://127.0.0.1:${port}`, rate: opts.rate ?? 3, masterKey: process.env.AI_BACKEND_MASTER_KEY });
    // Explicit dirs: an AI_BACKEND_CONFIG_DIR/RUNTIME_DIR of the operator's must not redirect the demo.
    return await runDashboard({
      home,
      configDir: path.join(home, 'config'),
      runtimeDir: path.join(home, 'runtime'),
      host: '127.0.0.1',
      port,
      gateway: true,
      // the demo's gateway lives in a temp home that goes with it
      stopGatewayOnExit: true,
      refreshMs: opts.refreshMs,
      title: 'ptui demo',
      // clients first, so the gateway drains the requests in flight and nothing new arrives
      beforeStop: () => traffic?.stop() ?? Promise.resolve(),
    });
  } finally {
    clearInterval(drift);
    await traffic?.stop();
    await sim.close();
    removeHome();
    process.off('exit', removeHome);
  }
}
