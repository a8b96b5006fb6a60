// Manual measurement, not a test: idle CPU of the system collectors at refresh 1000 ms against
// the fakes. `npx tsc -p tsconfig.json && node test/system/idle-cpu.mjs [host|gpu|services|all] [seconds]`.
// "own process" is what ptui pays; "children" is the fakes (node scripts, ~40 ms per start),
// far more than the real C tools cost, so it is printed apart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GpuMonitor } from '../../dist/system/gpu.js';
import { HostMonitor } from '../../dist/system/host.js';
import { ServicesMonitor } from '../../dist/system/services.js';
const which = process.argv[2] ?? 'all';
const seconds = Number(process.argv[3] ?? 20);
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
fs.writeFileSync(path.join(state, 'vllm.service.json'), JSON.stringify({ ActiveState: 'active', SubState: 'running', MainPID: process.pid }));
const env = { ...process.env, PATH: `${new URL('../fixtures/bin', import.meta.url).pathname}:${process.env.PATH}`, FAKE_SYSTEMD_STATE: state, PTUI_SYSTEMD_DIR: state };
const ticks = () => { const f = fs.readFileSync('/proc/self/stat','utf8').split(') ')[1].split(' '); return { self: (+f[11] + +f[12]) * 10, children: (+f[13] + +f[14]) * 10 }; };
const gpu = new GpuMonitor({ refreshMs: 1000, env });
const host = new HostMonitor({ diskPath: state, refreshMs: 1000 });
const svc = new ServicesMonitor({ services: [{ provider: 'vllm', unit: 'vllm.service' }, { provider: 'ollama', unit: 'ollama.service' }], env, refreshMs: 1000, gpuProcesses: () => gpu.getSnapshot().processes });
const ms = { gpu: [gpu], host: [host], services: [svc], all: [gpu, host, svc] }[which];
ms.forEach((m) => m.start());
await new Promise((r) => setTimeout(r, 3000));
const a = ticks(); const cu0 = process.cpuUsage(); const t0 = Date.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const b = ticks(); const cu1 = process.cpuUsage(); const wall = Date.now() - t0;
ms.forEach((m) => m.stop());
const self = (cu1.user - cu0.user + cu1.system - cu0.system) / 1000;
console.log(`${which}: own process ${(100 * self / wall).toFixed(2)} % of one core; reaped children (the fakes, node scripts) ${(100 * (b.children - a.children) / wall).toFixed(2)} %`);
setTimeout(() => process.exit(0), 200);
