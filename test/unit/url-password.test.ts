// Store URLs as they may be printed: the password never, wherever it appears and however it is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hidePassword, scrubPasswords } from '../../src/core/url-password.ts';

test('hidePassword masks the password and keeps the rest', () => {
  const cases: [string, string][] = [
    ['postgres://gw:s3cret@db.internal:5432/gateway', 'postgres://gw:***@db.internal:5432/gateway'],
    ['postgresql://gw:s3cret@db/gateway?sslmode=require', 'postgresql://gw:***@db/gateway?sslmode=require'],
    ['postgres://gw@db/gateway', 'postgres://gw@db/gateway'],
    ['postgres://db/gateway', 'postgres://db/gateway'],
    ['postgres://gw:@db/gateway', 'postgres://gw:***@db/gateway'],
    // An unencoded "@" or ":" in the password: everything up to the last "@" of the authority is userinfo.
    ['postgres://gw:p@ss:w@rd@db/gateway', 'postgres://gw:***@db/gateway'],
    ['postgres://gw:p%40ss@db/gateway', 'postgres://gw:***@db/gateway'],
    // The driver also reads a password from the query string.
    [
      'postgres://gw@db/gateway?password=s3cret&sslmode=require',
      'postgres://gw@db/gateway?password=***&sslmode=require',
    ],
    [
      'postgres://gw:a@db/gateway?sslmode=require&PASSWORD=b',
      'postgres://gw:***@db/gateway?sslmode=require&PASSWORD=***',
    ],
    ['sqlite:./data/gateway.db', 'sqlite:./data/gateway.db'],
    ['sqlite:/srv/a@b/gateway.db', 'sqlite:/srv/a@b/gateway.db'],
  ];
  for (const [url, shown] of cases) assert.equal(hidePassword(url), shown, url);
});

test('scrubPasswords masks every password of the URLs in a message, encoded or decoded, on one line', () => {
  const urls = ['sqlite:./data/gateway.db', 'postgres://gw:p%40ss-word@db/gateway'];
  assert.equal(
    scrubPasswords('cannot connect to postgres://gw:p%40ss-word@db/gateway:\nauth "p@ss-word" refused', urls),
    'cannot connect to postgres://gw:***@db/gateway: auth "***" refused',
  );
  assert.equal(scrubPasswords('nothing secret here', urls), 'nothing secret here');
  assert.equal(
    scrubPasswords('auth s3cret-q refused', ['postgres://gw@db/gateway?password=s3cret-q']),
    'auth *** refused',
  );
});
