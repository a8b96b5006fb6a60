import { describe, expect, it } from 'vitest';
import { OllamaShapeError, readOllama } from '../../src/engines/ollama.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('readOllama', () => {
  it('reads share in VRAM, spill, unload countdown and context length, ignoring unknown fields', () => {
    const ps = JSON.stringify({
      models: [
        { name: 'full:7b', size: 100, size_vram: 100, expires_at: '2026-01-01T00:05:00Z', context_length: 8192, brand_new_field: { x: 1 } },
        { name: 'half:70b', size: 200, size_vram: 50, expires_at: '2026-01-01T00:00:30Z' },
        { name: 'cpu:3b', size: 300, size_vram: 0, expires_at: 'not a date' },
        { name: 'forever', size: 10, size_vram: 10, expires_at: '2318-11-29T12:00:00Z' },
        { name: 'weird', size: 'big', size_vram: null },
        'not an object',
      ],
      extra: true,
    });
    const tags = JSON.stringify({ models: [{ name: 'full:7b', size: 100, details: {} }, { model: 'other' }, 42] });
    const f = readOllama(ps, tags, NOW);
    expect(f.loaded.map((m) => [m.name, m.vram_share, m.spill, m.unload_in_s])).toEqual([
      ['full:7b', 1, 'none', 300],
      ['half:70b', 0.25, 'partial', 30],
      ['cpu:3b', 0, 'cpu', null],
      ['forever', 1, 'none', null],
      ['weird', null, null, null],
    ]);
    expect(f.loaded[0].context_length).toBe(8192);
    expect(f.vram_bytes).toBe(160);
    expect(f.available).toEqual([
      { name: 'full:7b', size_bytes: 100 },
      { name: 'other', size_bytes: null },
    ]);
    expect(f.available_total).toBe(2);
  });

  it('makes names safe for a terminal', () => {
    const f = readOllama(JSON.stringify({ models: [{ name: 'evil\u001b[2Jname', size: 1, size_vram: 1 }] }), null, NOW);
    expect(f.loaded[0].name).toBe('evil?[2Jname');
  });

  it('refuses an answer that is not JSON or has no models list', () => {
    expect(() => readOllama('<html>', null, NOW)).toThrow(OllamaShapeError);
    expect(() => readOllama('[1,2]', null, NOW)).toThrow(OllamaShapeError);
    expect(readOllama('{"models": null}', null, NOW).loaded).toEqual([]);
  });
});
