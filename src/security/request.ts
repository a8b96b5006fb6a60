// Secrets anywhere a request carries prompt text (README, "Budgets, guardrails and cache"): `messages` with string content or
// content-part arrays (every role, system included), tool-call and function-call arguments,
// `prompt` and `input` as a string or an array, and the top-level `system`, `instructions` and
// `suffix` some clients send, Responses API input items (function calls, their outputs) and tool
// descriptions. Image, audio and file parts are not text and are not scanned
// (their base64 would only make false alarms).
//
// A secret split across two consecutive text slots (two content parts, or the end of one
// message and the start of the next) is caught by scanning a window around each seam: the tail
// of one slot joined to the head of the next, keeping only matches that cross the seam.
import type { SecretKind } from './detectors.js';
import { findSecrets, redactText, type Finding } from './scan.js';

/** A string inside the request body that can be read and replaced in place. */
interface TextSlot {
  owner: Record<string, unknown> | unknown[];
  key: string | number;
  text: string;
  findings: Finding[] | null;
}

export interface RequestScan {
  /** distinct kinds found, in detector order of discovery */
  kinds: SecretKind[];
  /** findings per kind (a secret split across a seam counts once) */
  counts: Map<SecretKind, number>;
  slots: TextSlot[];
}

// Longer than any single-token secret format (project keys run to ~200 characters); PEM keys
// are caught by their BEGIN/END lines, each far shorter than this.
const SEAM_WINDOW = 512;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function pushString(slots: TextSlot[], owner: Obj | unknown[], key: string | number): void {
  const v = (owner as Record<string | number, unknown>)[key];
  if (typeof v === 'string' && v.length > 0) slots.push({ owner, key, text: v, findings: null });
}

/** Message content: a string, or parts whose text lives in `text` (or nested `content`, e.g. tool results). */
function collectContent(slots: TextSlot[], owner: Obj | unknown[], key: string | number, depth: number): void {
  const v = (owner as Record<string | number, unknown>)[key];
  if (typeof v === 'string') return pushString(slots, owner, key);
  if (!Array.isArray(v) || depth > 4) return;
  for (let i = 0; i < v.length; i++) {
    const part = v[i];
    if (typeof part === 'string') pushString(slots, v, i);
    else if (isObj(part)) {
      if (typeof part.text === 'string') pushString(slots, part, 'text');
      if (part.content !== undefined) collectContent(slots, part, 'content', depth + 1);
    }
  }
}

function collectMessage(slots: TextSlot[], m: Obj): void {
  collectContent(slots, m, 'content', 0);
  if (Array.isArray(m.tool_calls)) {
    for (const tc of m.tool_calls) {
      if (isObj(tc) && isObj(tc.function)) pushString(slots, tc.function, 'arguments');
    }
  }
  if (isObj(m.function_call)) pushString(slots, m.function_call, 'arguments');
  // Responses API input items: a function call's arguments and a function call's output.
  if (m.type === 'function_call') pushString(slots, m, 'arguments');
  if (m.type === 'function_call_output') collectContent(slots, m, 'output', 0);
}

/** Tool descriptions are prompt text too (chat tools keep them under `function`). */
function collectTools(slots: TextSlot[], tools: unknown): void {
  if (!Array.isArray(tools)) return;
  for (const t of tools) {
    if (!isObj(t)) continue;
    pushString(slots, t, 'description');
    if (isObj(t.function)) pushString(slots, t.function, 'description');
  }
}

/** `prompt` / `input`: a string, or an array of strings (token arrays skipped), or message-like items. */
function collectPromptLike(slots: TextSlot[], body: Obj, key: string): void {
  const v = body[key];
  if (typeof v === 'string') return pushString(slots, body, key);
  if (!Array.isArray(v)) return;
  for (let i = 0; i < v.length; i++) {
    const item = v[i];
    if (typeof item === 'string') pushString(slots, v, i);
    else if (isObj(item)) collectMessage(slots, item);
  }
}

export function collectTextSlots(body: Obj): TextSlot[] {
  const slots: TextSlot[] = [];
  if (body.system !== undefined) collectContent(slots, body, 'system', 0);
  pushString(slots, body, 'instructions');
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) if (isObj(m)) collectMessage(slots, m);
  }
  collectPromptLike(slots, body, 'prompt');
  pushString(slots, body, 'suffix');
  collectPromptLike(slots, body, 'input');
  collectTools(slots, body.tools);
  return slots;
}

function addFinding(slot: TextSlot, f: Finding): void {
  (slot.findings ??= []).push(f);
}

function scanSeam(a: TextSlot, b: TextSlot, onFind: (kind: SecretKind) => void): void {
  const tail = a.text.length > SEAM_WINDOW ? a.text.slice(-SEAM_WINDOW) : a.text;
  const head = b.text.length > SEAM_WINDOW ? b.text.slice(0, SEAM_WINDOW) : b.text;
  const seam = tail.length;
  for (const f of findSecrets(tail + head)) {
    if (f.start >= seam || f.end <= seam) continue; // wholly in one slot: already found there
    addFinding(a, { kind: f.kind, start: a.text.length - seam + f.start, end: a.text.length });
    addFinding(b, { kind: f.kind, start: 0, end: f.end - seam });
    onFind(f.kind);
  }
}

/** Scans every text slot of a request body; null when it holds no secret. */
export function scanRequest(body: Obj): RequestScan | null {
  const slots = collectTextSlots(body);
  let scan: RequestScan | null = null;
  const found = (kind: SecretKind) => {
    scan ??= { kinds: [], counts: new Map(), slots };
    if (!scan.counts.has(kind)) scan.kinds.push(kind);
    scan.counts.set(kind, (scan.counts.get(kind) ?? 0) + 1);
  };
  for (const slot of slots) {
    const fs = findSecrets(slot.text);
    if (fs.length === 0) continue;
    slot.findings = fs;
    for (const f of fs) found(f.kind);
  }
  for (let i = 0; i + 1 < slots.length; i++) scanSeam(slots[i], slots[i + 1], found);
  return scan;
}

/** Rewrites, in place, every slot that holds a finding with `[REDACTED:<kind>]`. */
export function redactRequest(scan: RequestScan): void {
  for (const slot of scan.slots) {
    if (!slot.findings) continue;
    (slot.owner as Record<string | number, unknown>)[slot.key] = redactText(slot.text, slot.findings);
  }
}
