// Fake secrets in each format, generated (not committed as literals) so no scanner in CI
// mistakes the test suite for a leak. Deterministic: the same strings every run.
import type { SecretKind } from '../../src/security/detectors.js';
import { mulberry32 } from '../../src/usage/generate.js';

const rand = mulberry32(42);
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;

export function randomFrom(chars: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += chars[Math.floor(rand() * chars.length)];
  return s;
}

/** Random alphanumerics that are guaranteed to mix upper, lower and digits. */
export function mixed(n: number): string {
  return 'A' + 'z' + '7' + '3' + randomFrom(ALNUM, n - 4);
}

export const POSITIVE: Record<SecretKind, string[]> = {
  openai: [`sk-${mixed(48)}`, `sk-proj-${mixed(40)}_${mixed(40)}-${mixed(40)}`, `sk-svcacct-${mixed(60)}`],
  anthropic: [`sk-ant-api03-${mixed(80)}-${mixed(12)}AA`, `sk-ant-admin01-${mixed(60)}`],
  github: [
    `ghp_${mixed(36)}`,
    `gho_${mixed(36)}`,
    `ghu_${mixed(36)}`,
    `ghs_${mixed(36)}`,
    `ghr_${mixed(36)}`,
    `github_pat_${mixed(22)}_${mixed(59)}`,
  ],
  aws_access_key: [`AKIA${randomFrom(UPPER + '234567', 16)}`, `ASIA${randomFrom(UPPER + '234567', 16)}`],
  google_api_key: [`AIza${mixed(35)}`, `AIzaSy${randomFrom(ALNUM + '-_', 33)}`],
  slack: [
    `xoxb-${randomFrom(DIGITS, 12)}-${randomFrom(DIGITS, 13)}-${mixed(24)}`,
    `xoxp-${randomFrom(DIGITS, 12)}-${randomFrom(DIGITS, 12)}-${randomFrom(DIGITS, 13)}-${randomFrom('0123456789abcdef', 32)}`,
    `xoxa-2-${randomFrom(DIGITS, 12)}-${mixed(20)}`,
    `xoxr-${randomFrom(DIGITS, 12)}-${mixed(20)}`,
    `xoxs-${randomFrom(DIGITS, 12)}-${mixed(20)}`,
  ],
  huggingface: [`hf_${randomFrom(UPPER, 10)}${randomFrom(LOWER, 24)}`, `hf_${mixed(34)}`],
  stripe: [`sk_live_${mixed(24)}`, `rk_live_${mixed(99)}`],
  private_key: [
    `-----BEGIN RSA PRIVATE KEY-----\n${mixed(64)}\n${mixed(64)}\n${mixed(20)}==\n-----END RSA PRIVATE KEY-----`,
    `-----BEGIN OPENSSH PRIVATE KEY-----\n${mixed(70)}\n-----END OPENSSH PRIVATE KEY-----`,
    `-----BEGIN PRIVATE KEY-----\n${mixed(64)}\n-----END PRIVATE KEY-----`,
    `-----BEGIN EC PRIVATE KEY-----\\n${mixed(64)}\\n-----END EC PRIVATE KEY-----`,
  ],
};

/** Ordinary words and code that look a little like secrets and must not be flagged. */
export const NEGATIVE: Record<SecretKind, string[]> = {
  openai: [
    'task-skip',
    'ask-price',
    'desk-top',
    'risk-free',
    'sk-learn is a library',
    'use sk-learn, sk-image and sk-video',
    'sk-this-is-a-very-long-kebab-case-identifier-name',
    'flask-sqlalchemy-migrate-extension',
    `mask-${mixed(48)}`,
    'sk-' + 'a'.repeat(40),
  ],
  anthropic: ['sk-ant-colony-simulation-in-rust', 'risk-ant-farm', `task-ant-${mixed(40)}`],
  github: ['ghp_short', 'git push origin gh-pages', 'highlight_text_' + 'x'.repeat(40), `aghp_${mixed(36)}`, `ghx_${mixed(36)}`, 'github_pat_placeholder'],
  aws_access_key: ['AKIA', 'AKIAPLACEHOLDER', `AKIA${'0'.repeat(16)}`, `XAKIA${randomFrom(UPPER, 16)}`, `AKIA${randomFrom(UPPER, 20)}`],
  google_api_key: ['AIza', 'AIzaShortKey', `AIza${mixed(20)}`, `XAIza${mixed(35)}`],
  slack: ['xoxo and hugs', 'xoxb-short', 'xoxb-not-a-token-at-all', 'xox-abc-1234567890'],
  huggingface: ['hf_hub_download', 'hf_transfer', 'from huggingface_hub import hf_hub_url', 'hf_' + 'a'.repeat(34), 'hf_short'],
  stripe: ['sk_test_' + mixed(24), 'pk_live_' + mixed(24), 'sk_live_short', 'desk_live_' + mixed(24)],
  private_key: [
    '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----',
    '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----',
    'the words private key and BEGIN appear here',
  ],
};

/** Text that is everywhere in prompts and code and contains no secret. */
export const ORDINARY: string[] = [
  'task-skip ask-price desk-top kiosk-mode',
  '3f2a9c1e-1234-4abc-9def-0123456789ab',
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'da39a3ee5e6b4b0d3255bfef95601890afd80709',
  Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919) % 256)).toString('base64'),
  'function highlight(night, light) { return sight.length > 0 ? right : wrong; }',
  'import torch; from transformers import AutoModel; model = AutoModel.from_pretrained("x")',
  'SELECT * FROM llm_usage WHERE timestamp >= ? AND cost_usd > 0',
  'ASIAN markets and AKIAN islands; AIzawl is a place',
];
