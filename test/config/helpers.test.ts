import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeHome, type TempHome } from '../helpers/config.js';

let h: TempHome | undefined;
afterEach(() => h?.cleanup());

describe('makeHome', () => {
  it('copies the sample files by default and honours null, text and objects', () => {
    h = makeHome({ gateway: null, mappings: 'models: {}\n', env: { A_KEY: 'v 1' } });
    expect(fs.readFileSync(path.join(h.configDir, 'providers.yaml'), 'utf8')).toContain('providers:');
    expect(fs.existsSync(path.join(h.configDir, 'gateway.yaml'))).toBe(false);
    expect(fs.readFileSync(path.join(h.configDir, 'model-mappings.yaml'), 'utf8')).toBe('models: {}\n');
    expect(fs.readFileSync(path.join(h.home, '.env'), 'utf8')).toBe('A_KEY="v 1"\n');
    const home = h.home;
    h.cleanup();
    h = undefined;
    expect(fs.existsSync(home)).toBe(false);
  });
});
