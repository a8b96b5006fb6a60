// The engine's figures in a Services row: the columns that fit beside the unit's own (which
// always come first: a narrow panel drops these before anything else), and each row's cells.
// A figure the engine does not export shows as `—` (unsupported), one not known yet as `–`;
// neither is ever drawn as 0. An Ollama row shows its loaded models across the same cells.
import type { ProviderRoutingView } from '../../engines/routing-view.js';
import type { EngineStatus, VllmFigures } from '../../engines/types.js';
import type { Tone } from '../contexts/ThemeContext.js';
import { NA, bytes } from './format.js';

/** A figure this engine version does not export. */
export const UNSUPPORTED = '—';

export type EngineColumnId = 'queue' | 'kv' | 'tps' | 'ttft';

export interface EngineColumn {
  id: EngineColumnId;
  title: string;
  width: number;
}

/** In the order they are given up when the panel narrows (last first). */
export const ENGINE_COLUMNS: readonly EngineColumn[] = [
  { id: 'queue', title: 'run/wait', width: 8 },
  { id: 'kv', title: 'kv', width: 4 },
  { id: 'tps', title: 'tok/s', width: 6 },
  { id: 'ttft', title: 'ttft95', width: 6 },
];

export interface ServiceColumns {
  /** the full state (active/running) and the column names on the title line */
  wide: boolean;
  unitW: number;
  stateW: number;
  engine: EngineColumn[];
  /** columns after the last engine column: what the unit does not need goes to an Ollama's model list */
  spare: number;
}

export const PID_W = 7;
export const UP_W = 6;
export const HEALTH_W = 6;
export const GPU_W = 6;
/** An engine column is added only while the unit keeps this much room ("ollama.service"). */
const UNIT_ROOM = 14;

/**
 * The unit's own columns at this width, then as many engine columns as leave the unit its room.
 * With engine columns, the unit takes no more than its longest name needs; the rest is `spare`.
 */
export function planServiceColumns(width: number, withEngines: boolean, longestUnit = 0): ServiceColumns {
  const wide = width >= 64;
  const stateW = wide ? 17 : 10;
  let unitW = Math.max(6, width - 2 - stateW - PID_W - UP_W - HEALTH_W - GPU_W - 5);
  const engine: EngineColumn[] = [];
  if (withEngines) {
    for (const c of ENGINE_COLUMNS) {
      if (unitW - c.width - 1 < UNIT_ROOM) break;
      engine.push(c);
      unitW -= c.width + 1;
    }
  }
  const needed = engine.length > 0 ? Math.min(unitW, Math.max(UNIT_ROOM, longestUnit)) : unitW;
  return { wide, unitW: needed, stateW, engine, spare: unitW - needed };
}

export interface EngineCell {
  text: string;
  tone: Tone | null;
}

/** What the engine columns of one row hold. */
export type EngineCells =
  /** no engine behind this provider (a cloud API, `engine: none`) */
  | { kind: 'none' }
  /** the gateway has not said (it is down, or not ours, or not scraped yet) */
  | { kind: 'unknown' }
  /** one text across all engine columns: loaded models, or why the engine is down */
  | { kind: 'span'; text: string; tone: Tone | null }
  | { kind: 'cells'; cells: Record<EngineColumnId, EngineCell> };

/** Seconds as "45ms", "1.2s", "12s". */
export function shortSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s) || s < 0) return NA;
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  return s < 10 ? `${s.toFixed(1)}s` : `${Math.round(s)}s`;
}

/** A count or rate in at most 6 columns: "812", "12.3k", "4.7M". */
export function shortRate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v) || v < 0) return NA;
  if (v < 10_000) return v.toFixed(0);
  return v < 1e6 ? `${(v / 1e3).toFixed(1)}k` : `${(v / 1e6).toFixed(1)}M`;
}

/** `—` when the engine lacks the figure, `–` when it has no value yet, else the value. */
function shown(f: VllmFigures, name: string, value: number | null, format: (v: number) => string): string {
  if (f.unsupported.includes(name)) return UNSUPPORTED;
  return value === null ? NA : format(value);
}

function vllmCells(f: VllmFigures, routing: ProviderRoutingView | undefined): Record<EngineColumnId, EngineCell> {
  const saturated = routing?.saturated === true;
  const running = shown(f, 'running', f.running, String);
  const waiting = shown(f, 'waiting', f.waiting, String);
  const kv = f.kv_usage;
  return {
    queue: { text: `${running}/${waiting}`, tone: saturated ? 'bad' : f.waiting ? 'warn' : null },
    kv: {
      text: shown(f, 'kv_usage', kv, (v) => `${Math.round(v * 100)}%`),
      tone: saturated ? 'bad' : kv !== null && kv >= 0.9 ? 'warn' : null,
    },
    tps: { text: shown(f, 'generation_tokens_per_s', f.generation_tokens_per_s, shortRate), tone: null },
    ttft: { text: shown(f, 'ttft_s', f.ttft_s.p95, shortSeconds), tone: null },
  };
}

/** "qwen2.5:7b, llama3:70b 62% VRAM": a model partly in CPU memory says how much is in VRAM. */
export function loadedModelsText(loaded: NonNullable<EngineStatus['ollama']>['loaded']): string {
  if (loaded.length === 0) return 'no model loaded';
  return loaded
    .map((m) => {
      if (m.spill === 'cpu') return `${m.name} (CPU)`;
      if (m.spill === 'partial' && m.vram_share !== null) return `${m.name} ${Math.round(m.vram_share * 100)}% VRAM`;
      return m.name;
    })
    .join(', ');
}

/**
 * The engine columns of one service row. `answered`: the gateway has answered /engines (so a
 * provider missing from it has no engine, rather than figures not known yet).
 */
export function engineCells(engine: EngineStatus | undefined, routing: ProviderRoutingView | undefined, answered: boolean): EngineCells {
  if (!answered) return { kind: 'unknown' };
  if (!engine) return { kind: 'none' };
  if (!engine.up) return { kind: 'span', text: `engine down: ${engine.error ?? 'no answer'}`, tone: 'bad' };
  if (engine.ollama) {
    const vram = engine.ollama.vram_bytes;
    const text = loadedModelsText(engine.ollama.loaded);
    return { kind: 'span', text: vram ? `${text} · ${bytes(vram)}` : text, tone: engine.ollama.loaded.some((m) => m.spill === 'partial' || m.spill === 'cpu') ? 'warn' : null };
  }
  if (engine.vllm) return { kind: 'cells', cells: vllmCells(engine.vllm, routing) };
  return { kind: 'unknown' };
}
