import { describe, expect, it } from 'vitest';
import { annotateVars, maskUrlCredentials, redactSecret, redactValue, scrubSecretValues } from '../../src/config/redact.js';

const env = { SET_ONE: 'value-of-set-one', EMPTY: '' };

describe('redaction', () => {
  it('shows ${VAR} by name with set/unset, never the value', () => {
    expect(annotateVars('${SET_ONE}', env)).toBe('${SET_ONE} (set)');
    expect(annotateVars('${NOPE}', env)).toBe('${NOPE} (unset)');
    expect(annotateVars('${EMPTY}', env)).toBe('${EMPTY} (unset)');
    expect(annotateVars('http://${SET_ONE}:8000/v1', env)).toBe('http://${SET_ONE} (set):8000/v1');
  });

  it('masks credentials inside URLs', () => {
    expect(maskUrlCredentials('https://user:pw@host:1/v1')).toBe('https://***@host:1/v1');
    expect(maskUrlCredentials('https://tokenonly@host/v1')).toBe('https://***@host/v1');
    expect(maskUrlCredentials('http://h/x?api_key=abc&model=m&token=t')).toBe('http://h/x?api_key=***&model=m&token=***');
    expect(maskUrlCredentials('http://127.0.0.1:8000/v1')).toBe('http://127.0.0.1:8000/v1');
    expect(redactValue('https://u:${SET_ONE}@h/', env)).toBe('https://***@h/');
  });

  it('secret fields: a pure reference by name, any literal hidden whole', () => {
    expect(redactSecret('${SET_ONE}', env)).toBe('${SET_ONE} (set)');
    expect(redactSecret('${MISSING}', env)).toBe('${MISSING} (unset)');
    expect(redactSecret('sk-abc', env)).toBe('*** (literal in config file)');
    expect(redactSecret('Bearer ${SET_ONE}', env)).toBe('*** (literal in config file)');
    expect(redactSecret(undefined, env)).toBeUndefined();
  });

  it('scrubs leaked values of the named variables', () => {
    expect(scrubSecretValues('a value-of-set-one b', env, ['SET_ONE'])).toBe('a *** b');
    expect(scrubSecretValues('a value-of-set-one b', env, ['OTHER'])).toBe('a value-of-set-one b');
  });
});
