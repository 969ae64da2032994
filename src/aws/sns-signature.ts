/**
 * Verifies the signature of an SNS notification envelope, as AWS documents it: the string to sign is
 * built from the envelope's fields, SignatureVersion 1 is SHA1withRSA and 2 is SHA256withRSA, and the
 * key is in the X.509 certificate at SigningCertURL, which must be on SNS's own host.
 */
import { X509Certificate, createVerify } from 'node:crypto';
import { BoundedMap } from '../domain/bounded-map';

export interface SnsSignatureOptions {
  /**
   * URL prefixes a SigningCertURL may start with. Default: `https://sns.<region>.amazonaws.com/`
   * (and `.amazonaws.com.cn` in China) for the region of the envelope's TopicArn.
   */
  certUrlPrefixes?: readonly string[];
  /** Timeout of one certificate download, in milliseconds. Default 5000. */
  fetchTimeoutMs?: number;
}

export type SnsSignatureResult = { ok: true } | { ok: false; reason: string; retry?: boolean };

/** Certificates kept, by URL. SNS signs with one certificate per region at a time, so a few suffice. */
const MAX_CACHED_CERTIFICATES = 32;
/** An SNS certificate is about 2 KB; anything much larger is not one. */
const MAX_CERTIFICATE_BYTES = 64 * 1024;

const NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;

/** The text SNS signs for a Notification: each present field's name and value, one per line. */
export function notificationStringToSign(envelope: Record<string, unknown>): string {
  return NOTIFICATION_FIELDS.filter((key) => typeof envelope[key] === 'string')
    .map((key) => `${key}\n${envelope[key] as string}\n`)
    .join('');
}

function defaultPrefixes(topicArn: unknown): string[] {
  const region = typeof topicArn === 'string' ? topicArn.split(':')[3] : undefined;
  if (!region || !/^[a-z0-9-]{1,32}$/.test(region)) return [];
  return [`https://sns.${region}.amazonaws.com/`, `https://sns.${region}.amazonaws.com.cn/`];
}

/** Checks envelopes; holds the certificates it fetched, so make one per process. */
export class SnsSignatureVerifier {
  private readonly certificates = new BoundedMap<string, Promise<X509Certificate>>(MAX_CACHED_CERTIFICATES);

  constructor(private readonly options: SnsSignatureOptions = {}) {}

  async verify(envelope: Record<string, unknown>, now: Date = new Date()): Promise<SnsSignatureResult> {
    const { SignatureVersion: version, Signature: signature, SigningCertURL: certUrl } = envelope;
    if (version !== '1' && version !== '2')
      return {
        ok: false,
        reason: `SNS envelope's SignatureVersion is ${JSON.stringify(version ?? null)}, not "1" or "2"`,
      };
    if (typeof signature !== 'string' || signature === '')
      return { ok: false, reason: 'SNS envelope has no Signature' };
    if (typeof certUrl !== 'string') return { ok: false, reason: 'SNS envelope has no SigningCertURL' };
    const prefixes = this.options.certUrlPrefixes ?? defaultPrefixes(envelope.TopicArn);
    // URL parsing first, so that "https://sns.x.amazonaws.com@evil/" or ".." cannot pass a prefix test.
    let normalized: string;
    try {
      normalized = new URL(certUrl).href;
    } catch {
      return { ok: false, reason: "SNS envelope's SigningCertURL is not a URL" };
    }
    if (!prefixes.some((prefix) => normalized.startsWith(prefix)) || !normalized.endsWith('.pem')) {
      return {
        ok: false,
        reason: `SNS envelope's SigningCertURL ${normalized.slice(0, 120)} is not an SNS certificate (allowed: ${prefixes.join(', ') || 'none for this TopicArn'})`,
      };
    }

    let certificate: X509Certificate;
    try {
      certificate = await this.certificate(normalized);
    } catch (err) {
      return {
        ok: false,
        reason: `could not fetch the SNS signing certificate ${normalized}: ${(err as Error).message}`,
        retry: true,
      };
    }
    if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) {
      return {
        ok: false,
        reason: `the SNS signing certificate ${normalized} is not valid now (valid ${certificate.validFrom} to ${certificate.validTo})`,
      };
    }
    const verifier = createVerify(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    verifier.update(notificationStringToSign(envelope), 'utf8');
    let valid = false;
    try {
      valid = verifier.verify(certificate.publicKey, signature, 'base64');
    } catch {
      valid = false;
    }
    return valid
      ? { ok: true }
      : { ok: false, reason: "SNS envelope's Signature does not match its content: not signed by SNS, or altered" };
  }

  private certificate(url: string): Promise<X509Certificate> {
    const cached = this.certificates.get(url);
    if (cached) return cached;
    const loading = this.download(url);
    this.certificates.set(url, loading);
    // A failed download is not kept: the next message tries again.
    loading.catch(() => this.certificates.delete(url));
    return loading;
  }

  private async download(url: string): Promise<X509Certificate> {
    const res = await fetch(url, {
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 5_000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await res.text();
    if (text.length > MAX_CERTIFICATE_BYTES) throw new Error('the response is too large for a certificate');
    return new X509Certificate(text);
  }
}
