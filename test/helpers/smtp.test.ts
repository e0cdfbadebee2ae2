// Proves the real-SMTP test helper (test/helpers/smtp.ts): delivery order, parsing, stop/start, auth, linkIn.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import nodemailer from 'nodemailer';
import { linkIn, type Mail, startSmtp } from './smtp.ts';

type Outgoing = { to: string; subject: string; text?: string; html?: string };

/** One connection for many mails: smtp-server waits 100 ms before greeting each new connection. */
const mailer = (url: string) => {
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 1,
    connectionTimeout: 2000,
    greetingTimeout: 2000,
  });
  return {
    send: (mail: Outgoing) => transport.sendMail({ from: '"Gateway" <gateway@example.test>', ...mail }),
    close: () => transport.close(),
  };
};

/** A mail on a connection of its own. */
const send = async (url: string, mail: Outgoing) => {
  const m = mailer(url);
  try {
    return await m.send(mail);
  } finally {
    m.close();
  }
};

test('mails arrive parsed, and successive waitForMail calls return them in order', async () => {
  const smtp = await startSmtp();
  const out = mailer(smtp.url);
  try {
    assert.equal(smtp.url, `smtp://127.0.0.1:${smtp.port}`);
    assert.ok(smtp.port > 0);
    const pending = smtp.waitForMail(); // waiting before anything is sent works too
    await out.send({
      to: '"Ann" <ann@example.test>, bob@example.test',
      subject: 'First ✓',
      text: 'Hello Ann',
      html: '<p>Hello <b>Ann</b></p>',
    });
    await out.send({ to: 'carol@example.test', subject: 'Second', text: 'Hello Carol' });

    const first = await pending;
    assert.deepEqual(first.to, ['ann@example.test', 'bob@example.test']);
    assert.equal(first.from, 'gateway@example.test');
    assert.equal(first.subject, 'First ✓');
    assert.equal(first.text.trim(), 'Hello Ann');
    assert.equal(first.html, '<p>Hello <b>Ann</b></p>');
    assert.equal(first.headers.get('subject'), 'First ✓');

    const second = await smtp.waitForMail();
    assert.deepEqual(second.to, ['carol@example.test']);
    assert.equal(second.subject, 'Second');
    assert.equal(second.html, '');
    assert.equal(smtp.mails.length, 2);

    // A predicate can pick an older mail that no waitForMail has returned yet; returned ones are skipped.
    await out.send({ to: 'dan@example.test', subject: 'Third', text: 'x' });
    await out.send({ to: 'erin@example.test', subject: 'Fourth', text: 'y' });
    assert.equal((await smtp.waitForMail((m) => m.to.includes('erin@example.test'))).subject, 'Fourth');
    assert.equal((await smtp.waitForMail()).subject, 'Third');
    await assert.rejects(smtp.waitForMail(undefined, 50), /no matching mail within 50 ms; received 4/);
  } finally {
    out.close();
    await smtp.close();
  }
});

test('stop() refuses connections; start() listens again on the same port and keeps the mails', async () => {
  const smtp = await startSmtp();
  try {
    await send(smtp.url, { to: 'a@example.test', subject: 'before', text: '1' });
    await smtp.stop();
    await assert.rejects(
      send(smtp.url, { to: 'a@example.test', subject: 'while down', text: '2' }),
      (e: Error) => /ECONNREFUSED/.test(`${e.message} ${(e as { code?: string }).code} ${String(e.cause)}`),
    );
    const port = smtp.port;
    await smtp.start();
    assert.equal(smtp.port, port);
    await send(smtp.url, { to: 'a@example.test', subject: 'after', text: '3' });
    assert.deepEqual(
      smtp.mails.map((m) => m.subject),
      ['before', 'after'],
    );
  } finally {
    await smtp.close();
  }
});

test('a given port is used', async () => {
  const probe = await startSmtp();
  const port = probe.port;
  await probe.close();
  const smtp = await startSmtp({ port });
  try {
    assert.equal(smtp.port, port);
    await send(smtp.url, { to: 'a@example.test', subject: 'fixed port', text: 'x' });
    assert.equal((await smtp.waitForMail()).subject, 'fixed port');
  } finally {
    await smtp.close();
  }
});

test('auth mode: right credentials deliver, wrong or missing ones are rejected', async () => {
  const smtp = await startSmtp({ auth: { user: 'mailer', pass: 'p@ss:w/rd' } });
  try {
    assert.equal(smtp.url, `smtp://mailer:p%40ss%3Aw%2Frd@127.0.0.1:${smtp.port}`);
    await send(smtp.url, { to: 'a@example.test', subject: 'authed', text: 'x' });
    assert.equal((await smtp.waitForMail()).subject, 'authed');

    await assert.rejects(
      send(`smtp://mailer:wrong@127.0.0.1:${smtp.port}`, { to: 'a@example.test', subject: 'no' }),
      {
        code: 'EAUTH',
      },
    );
    await assert.rejects(
      send(`smtp://127.0.0.1:${smtp.port}`, { to: 'a@example.test', subject: 'no' }),
      (e: Error) => /530|Authentication Required/i.test(e.message),
    );
    assert.deepEqual(
      smtp.mails.map((m) => m.subject),
      ['authed'],
    );
  } finally {
    await smtp.close();
  }
});

test('linkIn finds the first link under a path, from text or html-only mails, and lists links when none fits', async () => {
  const smtp = await startSmtp();
  const out = mailer(smtp.url);
  try {
    await out.send({
      to: 'a@example.test',
      subject: 'Verify',
      text: 'See https://gw.example.test/help.\nVerify: http://gw.example.test:8080/auth/verify?token=abc_123&x=1.\n',
    });
    const mail = await smtp.waitForMail();
    const url = linkIn(mail, '/auth/verify');
    assert.equal(url.href, 'http://gw.example.test:8080/auth/verify?token=abc_123&x=1');
    assert.equal(url.searchParams.get('token'), 'abc_123');
    assert.throws(
      () => linkIn(mail, '/auth/reset'),
      (e: Error) =>
        e.message.includes('"/auth/reset"') &&
        e.message.includes('https://gw.example.test/help\n') &&
        e.message.includes('http://gw.example.test:8080/auth/verify?token=abc_123&x=1'),
    );

    await out.send({
      to: 'a@example.test',
      subject: 'Reset',
      html: '<p><a href="https://gw.example.test/auth/reset?t=xyz">Reset your password</a></p>',
    });
    assert.equal(linkIn(await smtp.waitForMail(), '/auth/reset').searchParams.get('t'), 'xyz');
  } finally {
    out.close();
    await smtp.close();
  }

  const bare: Pick<Mail, 'text' | 'subject'> = { subject: 'none', text: 'no links here' };
  assert.throws(() => linkIn(bare, '/auth/verify'), /links:\n {2}\(none\)/);
});
