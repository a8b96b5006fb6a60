// Ollama's /api/ps (models in memory) and /api/tags (models on disk) read into figures. Unknown
// fields are ignored and a field of the wrong type becomes null rather than losing the model;
// names are made safe for a terminal before they leave here.
import { z } from 'zod';
import type { OllamaFigures, OllamaLoaded } from './types.js';

/** More than this many models per list is someone's archive, not a view: the rest are counted. */
export const MAX_LISTED_MODELS = 200;
/** Ollama writes a far-future expiry for keep_alive < 0 (never unload). */
const NEVER_S = 10 * 365 * 86400;

const bytes = z.number().finite().nonnegative().nullable().catch(null);
const text = z.string().nullable().catch(null);

const psModel = z.object({
  name: text.optional(),
  model: text.optional(),
  size: bytes.optional(),
  size_vram: bytes.optional(),
  expires_at: text.optional(),
  context_length: z.number().int().positive().nullable().catch(null).optional(),
});
const modelList = (entry: z.ZodType) => z.object({ models: z.array(z.unknown()).catch([]) }).transform((o) => o.models.map((m) => entry.safeParse(m)));

const psSchema = modelList(psModel);
const tagModel = z.object({ name: text.optional(), model: text.optional(), size: bytes.optional() });
const tagsSchema = modelList(tagModel);

export function cleanName(v: string | null | undefined): string {
  const s = (v ?? '').replace(/[^\x20-\x7e]/g, '?');
  return s.length > 120 ? `${s.slice(0, 120)}…` : s || '(unnamed)';
}

export class OllamaShapeError extends Error {}

function parseJson(textBody: string, what: string): unknown {
  try {
    return JSON.parse(textBody);
  } catch {
    throw new OllamaShapeError(`${what} is not JSON`);
  }
}

/** Figures from the two answers; `nowMs` is wall-clock time for the unload countdown. */
export function readOllama(psText: string, tagsText: string | null, nowMs: number): OllamaFigures {
  const ps = psSchema.safeParse(parseJson(psText, '/api/ps'));
  if (!ps.success) throw new OllamaShapeError('/api/ps has no models list');
  const loaded: OllamaLoaded[] = [];
  let vram = 0;
  for (const r of ps.data) {
    if (!r.success || loaded.length >= MAX_LISTED_MODELS) continue;
    const m = r.data as z.infer<typeof psModel>;
    const size = m.size ?? null;
    const inVram = m.size_vram ?? null;
    vram += inVram ?? 0;
    const share = size !== null && inVram !== null && size > 0 ? Math.min(1, inVram / size) : null;
    let unloadIn: number | null = null;
    const expires = m.expires_at ? Date.parse(m.expires_at) : NaN;
    if (Number.isFinite(expires)) {
      const s = (expires - nowMs) / 1000;
      unloadIn = s > NEVER_S ? null : Math.max(0, Math.round(s));
    }
    loaded.push({
      name: cleanName(m.name ?? m.model),
      size_bytes: size,
      size_vram_bytes: inVram,
      vram_share: share === null ? null : Math.round(share * 1000) / 1000,
      spill: share === null ? null : share >= 1 ? 'none' : share <= 0 ? 'cpu' : 'partial',
      expires_at: m.expires_at && Number.isFinite(expires) ? new Date(expires).toISOString() : null,
      unload_in_s: unloadIn,
      context_length: m.context_length ?? null,
    });
  }
  const available: OllamaFigures['available'] = [];
  let total = 0;
  if (tagsText !== null) {
    const tags = tagsSchema.safeParse(parseJson(tagsText, '/api/tags'));
    if (tags.success) {
      for (const r of tags.data) {
        if (!r.success) continue;
        total++;
        const m = r.data as z.infer<typeof tagModel>;
        if (available.length < MAX_LISTED_MODELS) available.push({ name: cleanName(m.name ?? m.model), size_bytes: m.size ?? null });
      }
    }
  }
  return { loaded, available, available_total: total, vram_bytes: ps.data.length ? vram : 0 };
}
