// Native TLS: the certificate and key files, read and checked as a pair at start and again on every reload
// (renewal tools rewrite them), so a renewed certificate needs no restart. A file that cannot be used is named
// with what to do, and never replaces a working pair.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import type { Config } from '../config/load.ts';
import type { ReloadPart } from './reload.ts';

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  /** For the log: whose certificate, and until when. */
  subject: string;
  notAfter: string;
  /** Anyone on the machine may read the key: worth a warning, not a refusal. */
  keyWorldReadable: boolean;
}

export type TlsRead = { ok: true; pair: TlsPair } | { ok: false; problem: string };

/** A TLS pair that cannot be used at start: the message is one line naming the file and what to do. */
export class TlsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsError';
  }
}

function readFile(setting: string, path: string): Buffer | string {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return `${setting}: cannot read ${path} (${code}): check the path and that the gateway's user may read it`;
  }
}

/** Reads and checks the pair the config names: both parse, and the key belongs to the certificate. */
export function readTlsPair(certPath: string, keyPath: string): TlsRead {
  const cert = readFile('server.tls_cert', certPath);
  if (typeof cert === 'string') return { ok: false, problem: cert };
  const key = readFile('server.tls_key', keyPath);
  if (typeof key === 'string') return { ok: false, problem: key };
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    return {
      ok: false,
      problem: `server.tls_cert: ${certPath} is not a PEM certificate (expected "-----BEGIN CERTIFICATE-----", the server certificate first, then its chain)`,
    };
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key)))
      return {
        ok: false,
        problem: `server.tls_key: ${keyPath} does not belong to the certificate in ${certPath}: install the key and certificate of one pair (a renewal may have replaced only one of them)`,
      };
  } catch {
    return {
      ok: false,
      problem: `server.tls_key: ${keyPath} is not an unencrypted PEM private key (expected "-----BEGIN PRIVATE KEY-----" or an RSA/EC key without a passphrase)`,
    };
  }
  try {
    createSecureContext({ cert, key }); // what the listener will do with them: fail here, not at the handshake
  } catch (err) {
    return {
      ok: false,
      problem: `server.tls_cert: ${certPath} with ${keyPath} cannot be used: ${(err as Error).message}`,
    };
  }
  let keyWorldReadable = false;
  try {
    keyWorldReadable = process.platform !== 'win32' && (statSync(keyPath).mode & 0o004) !== 0;
  } catch {
    // read a moment ago; a swap in between changes nothing about the pair just read
  }
  const subject = x509.subject.replace(/\n/g, ', ');
  return { ok: true, pair: { cert, key, subject, notAfter: x509.validTo, keyWorldReadable } };
}

/** The pair for the listener at start, or null without TLS. Throws a one-line TlsError. */
export function tlsAtStart(config: Config): TlsPair | null {
  const { tls_cert, tls_key } = config.server;
  if (!tls_cert || !tls_key) return null;
  const read = readTlsPair(tls_cert, tls_key);
  if (!read.ok) throw new TlsError(read.problem);
  return read.pair;
}

/**
 * The reload step for a TLS listener: the new config's files are read and checked before anything is swapped;
 * a bad pair refuses the whole reload and the listener keeps the context it has. New connections get the new
 * pair; open ones keep the one they shook hands with.
 */
export function tlsReloadPart(server: TlsServer, onLoaded: (pair: TlsPair) => void): ReloadPart {
  return {
    prepare(config) {
      const { tls_cert, tls_key } = config.server;
      // Turning TLS off needs a restart (reported as such); until then the listener keeps its pair.
      if (!tls_cert || !tls_key) return { ok: true, apply() {} };
      const read = readTlsPair(tls_cert, tls_key);
      if (!read.ok) return { ok: false, problems: [read.problem] };
      return {
        ok: true,
        apply() {
          server.setSecureContext({ cert: read.pair.cert, key: read.pair.key });
          onLoaded(read.pair);
        },
      };
    },
  };
}

/** The files whose change should reload the gateway, besides the config file itself. */
export function tlsFiles(config: Config): string[] {
  const { tls_cert, tls_key } = config.server;
  return tls_cert && tls_key ? [tls_cert, tls_key] : [];
}
