// The dashboard's config follows config/ like the gateway does: an invalid config at start is
// shown (not fatal), a fix is picked up by the watcher, and a later breakage keeps the errors
// visible while the services list stays on the last good config.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ConfigStore } from '../../src/tui/data/configStore.js';
import { makeHome, sampleConfig } from '../helpers/config.js';
import { waitFor } from '../helpers/gateway.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('ConfigStore', () => {
  it('starts with the errors of an invalid config and reloads when the file is fixed', async () => {
    const home = makeHome({ mappings: 'models: {gpt-4: {capability: chat, targets: [{provider: opneai, model: x}]}}\ncapabilities: {chat: {}}\n' });
    cleanups.push(home.cleanup);
    const store = new ConfigStore({ home: home.home, env: {} });
    cleanups.push(() => store.close());
    const first = store.getSnapshot();
    expect(first.config).toBeUndefined();
    expect(first.problems.map((p) => `${p.file}: ${p.path}`)).toContain('model-mappings.yaml: models.gpt-4.targets[0].provider');
    await store.watch(50);
    fs.writeFileSync(path.join(home.configDir, 'model-mappings.yaml'), YAML.stringify(sampleConfig('mappings')));
    const fixed = await waitFor(() => store.getSnapshot().config && store.getSnapshot(), 'the fixed config', 10_000);
    expect(fixed.generation).toBeGreaterThan(first.generation);
    expect(Object.keys(fixed.config!.models)).toContain('gpt-4');
    expect(fixed.problems.filter((p) => p.severity === 'error')).toEqual([]);
  });
});
