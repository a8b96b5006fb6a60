// The gateway proves it is the one its runtime dir records: GET /health with a challenge header
// answers HMAC(secret, challenge); a malformed challenge or none gets no proof, and the secret
// itself never travels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INSTANCE_CHALLENGE_HEADER,
  INSTANCE_PROOF_HEADER,
  newInstanceChallenge,
  readInstanceRecord,
  verifyInstanceProof,
} from '../../src/config/instance-record.js';
import { startSimUpstream, type SimUpstream } from '../../src/sim/upstream.js';
import type { TempHome } from '../helpers/config.js';
import { makeSimHome, startGateway, type GatewayChild } from '../helpers/gateway.js';

let sim: SimUpstream;
let home: TempHome;
let gw: GatewayChild;
beforeAll(async () => {
  sim = await startSimUpstream({});
  home = makeSimHome(sim.url);
  gw = await startGateway({ home: home.home });
});
afterAll(async () => {
  await gw.stop();
  await sim.close();
  home.cleanup();
});

const health = (headers: Record<string, string> = {}) => fetch(`${gw.url}/health`, { headers });

describe('instance proof on /health', () => {
  it('answers a fresh challenge with the HMAC of the recorded secret', async () => {
    const r = readInstanceRecord(home.runtimeDir);
    expect(r.state).toBe('ok');
    const secret = r.state === 'ok' ? r.record.secret : '';
    for (let i = 0; i < 3; i++) {
      const challenge = newInstanceChallenge();
      const res = await health({ [INSTANCE_CHALLENGE_HEADER]: challenge });
      expect(res.status).toBe(200);
      const proof = res.headers.get(INSTANCE_PROOF_HEADER);
      expect(verifyInstanceProof(secret, challenge, proof)).toBe(true);
      expect(verifyInstanceProof(secret, newInstanceChallenge(), proof)).toBe(false);
      const text = await res.text();
      expect(text).not.toContain(secret);
      expect(proof).not.toContain(secret);
    }
  });

  it('gives no proof without a challenge, or for a malformed one', async () => {
    for (const headers of [{}, { [INSTANCE_CHALLENGE_HEADER]: 'short' }, { [INSTANCE_CHALLENGE_HEADER]: 'x'.repeat(129) }, { [INSTANCE_CHALLENGE_HEADER]: 'not allowed chars!!!!' }]) {
      const res = await health(headers);
      expect(res.status).toBe(200);
      expect(res.headers.get(INSTANCE_PROOF_HEADER)).toBeNull();
      await res.arrayBuffer();
    }
  });
});
