// The running gateway's record in the runtime dir: who it is (pid, where it listens, when it
// started, which version) and a random instance secret. Written by the gateway once it listens,
// removed on a clean exit; read by the dashboard and `ptui gateway status` to find the gateway
// and to prove that whatever answers on the port is that gateway (the pid alone can be reused
// after a kill -9, the secret cannot be guessed). Owner-only (0600) because of the secret.
//
// The record is information, not the lock: one gateway per runtime dir is enforced by a kernel
// lock the gateway holds (src/gateway/instance-lock.ts), which a kill -9 releases by itself. A
// record can therefore be stale (its process gone); readers check the pid before trusting it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic.js';

export const INSTANCE_RECORD_FILE = 'gateway.json';

export const InstanceRecordSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  /** 32 random bytes, hex: proves the gateway on the port is this one (see instanceProof) */
  secret: z.string().regex(/^[0-9a-f]{64}$/),
  /** ISO 8601 UTC */
  started_at: z.iso.datetime(),
  version: z.string().max(64),
});
export type InstanceRecord = z.infer<typeof InstanceRecordSchema>;

/** Larger than any real record: a reader never loads a huge file someone put in its place. */
const MAX_RECORD_BYTES = 4096;

export function instanceRecordPath(runtimeDir: string): string {
  return path.join(runtimeDir, INSTANCE_RECORD_FILE);
}

export function newInstanceSecret(): string {
  return randomBytes(32).toString('hex');
}

/** Atomically (a reader sees the old record or the new one), mode 0600. */
export function writeInstanceRecord(runtimeDir: string, record: InstanceRecord): void {
  const file = instanceRecordPath(runtimeDir);
  writeFileAtomic(file, JSON.stringify(InstanceRecordSchema.parse(record)) + '\n', 0o600);
  // The mode given at creation is filtered by the umask only (never widened); this states it
  // outright in case the filesystem ignored it.
  fs.chmodSync(file, 0o600);
}

export type RecordRead =
  | { state: 'none' }
  | { state: 'invalid'; reason: string }
  | { state: 'ok'; record: InstanceRecord };

/**
 * The record as stored, validated. A file owned by another user, readable by others, too big or
 * not matching the schema is 'invalid' (never trusted: someone else could plant a record that
 * points the dashboard at their own server).
 */
export function readInstanceRecord(runtimeDir: string): RecordRead {
  const file = instanceRecordPath(runtimeDir);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'none' };
    return { state: 'invalid', reason: `cannot open ${file}: ${code ?? (e as Error).message}` };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { state: 'invalid', reason: `${file} is not a regular file` };
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      return { state: 'invalid', reason: `${file} belongs to another user (uid ${st.uid})` };
    }
    if ((st.mode & 0o077) !== 0) return { state: 'invalid', reason: `${file} is readable by others (mode ${(st.mode & 0o777).toString(8)})` };
    if (st.size > MAX_RECORD_BYTES) return { state: 'invalid', reason: `${file} is too large (${st.size} bytes)` };
    const buf = Buffer.alloc(MAX_RECORD_BYTES + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    let json: unknown;
    try {
      json = JSON.parse(buf.subarray(0, n).toString('utf8'));
    } catch {
      return { state: 'invalid', reason: `${file} is not valid JSON` };
    }
    const parsed = InstanceRecordSchema.safeParse(json);
    if (!parsed.success) return { state: 'invalid', reason: `${file} does not match the record's schema` };
    return { state: 'ok', record: parsed.data };
  } finally {
    fs.closeSync(fd);
  }
}

/** Removes the record if it is still this instance's (a later gateway may have replaced it). */
export function removeInstanceRecord(runtimeDir: string, secret: string): void {
  const r = readInstanceRecord(runtimeDir);
  if (r.state === 'ok' && r.record.secret === secret) fs.rmSync(instanceRecordPath(runtimeDir), { force: true });
}

/** True while a process with this pid exists (EPERM: it exists, but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The record of a gateway whose process still exists, or null (none, invalid, or stale). */
export function liveInstanceRecord(runtimeDir: string): InstanceRecord | null {
  const r = readInstanceRecord(runtimeDir);
  return r.state === 'ok' && isProcessAlive(r.record.pid) ? r.record : null;
}

/**
 * Challenge-response: the dashboard sends a fresh random challenge, the gateway answers with
 * HMAC-SHA256(secret, challenge). Only a holder of the secret can answer, and the secret itself
 * never goes over the wire.
 */
export const INSTANCE_CHALLENGE_HEADER = 'x-ptui-instance-challenge';
export const INSTANCE_PROOF_HEADER = 'x-ptui-instance-proof';
/** A challenge is 16..128 URL-safe characters; anything else gets no proof. */
export const INSTANCE_CHALLENGE_RE = /^[A-Za-z0-9_-]{16,128}$/;

export function instanceProof(secret: string, challenge: string): string {
  return createHmac('sha256', secret).update(challenge).digest('hex');
}

export function newInstanceChallenge(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time check of a proof the gateway sent back. */
export function verifyInstanceProof(secret: string, challenge: string, proof: string | null | undefined): boolean {
  if (typeof proof !== 'string' || !/^[0-9a-f]{64}$/.test(proof)) return false;
  return timingSafeEqual(Buffer.from(instanceProof(secret, challenge), 'hex'), Buffer.from(proof, 'hex'));
}
