// Address-risk provider over HTTP. Reads a response modelled on the public shape of the
// Chainalysis Address Screening entity API (GET /api/risk/v2/entities/{address}:
// { address, risk: "Severe"|"High"|"Medium"|"Low", riskReason, cluster: {name, category},
// exposures: [{category, value, exposureType}] }). Anything else — HTTP error, bad body,
// unknown risk label, abort — is an 'unavailable' answer; screening then fails closed.
import { z } from 'zod';
import type { AddressRiskProvider, AddressRiskQuery, ProviderAnswer } from '../../application/ports.js';

const responseSchema = z.object({
  address: z.string(),
  risk: z.enum(['Severe', 'High', 'Medium', 'Low']),
  riskReason: z.string().nullable().optional(),
  cluster: z.object({ name: z.string(), category: z.string() }).nullable().optional(),
  exposures: z.array(z.object({ category: z.string(), value: z.number().optional(), exposureType: z.string().optional() })).optional(),
  status: z.string().optional(),
});

export const RISK_LABEL_SCORES: Readonly<Record<string, number>> = { Severe: 100, High: 75, Medium: 40, Low: 10 };

export interface HttpProviderOptions {
  readonly name?: string;
  readonly baseUrl: string;
  /** Sent as the `Token` header; never logged. */
  readonly apiKey?: string | undefined;
  readonly fetch?: typeof fetch;
}

export class HttpAddressRiskProvider implements AddressRiskProvider {
  readonly name: string;
  private readonly baseUrl: string;

  constructor(private readonly options: HttpProviderOptions) {
    this.name = options.name ?? 'analytics';
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async assess(query: AddressRiskQuery, signal: AbortSignal): Promise<ProviderAnswer> {
    const url = `${this.baseUrl}/api/risk/v2/entities/${encodeURIComponent(query.address)}`;
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, { method: 'GET', signal, headers: { accept: 'application/json', ...(this.options.apiKey ? { Token: this.options.apiKey } : {}) } });
    } catch (e) {
      return { status: 'unavailable', detail: signal.aborted ? 'request aborted (timeout)' : `request failed: ${(e as Error).name}` };
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return { status: 'unavailable', detail: `HTTP ${response.status}` };
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return { status: 'unavailable', detail: 'response is not JSON' };
    }
    const parsed = responseSchema.safeParse(body);
    if (!parsed.success) return { status: 'unavailable', detail: 'unexpected response shape' };
    const r = parsed.data;
    if (r.status !== undefined && r.status !== 'COMPLETE') return { status: 'unavailable', detail: `screening status ${r.status}` };
    if (r.address.toLowerCase() !== query.address.toLowerCase()) return { status: 'unavailable', detail: 'response is for another address' };
    const categories = [...new Set([...(r.cluster ? [r.cluster.category] : []), ...(r.exposures ?? []).map((e) => e.category)])].sort();
    return { status: 'ok', score: RISK_LABEL_SCORES[r.risk] ?? 100, riskLabel: r.risk, categories };
  }
}
