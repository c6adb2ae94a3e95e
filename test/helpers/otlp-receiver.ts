/**
 * A small OTLP/HTTP metrics receiver for tests (test code, independent of dsprobe's): node:http on 127.0.0.1,
 * port 0. It keeps every JSON payload POSTed to /v1/metrics, and can answer 500 (echoing the request's authorization
 * header, as a careless collector might) or never answer (a collector
 * that is broken or hangs). Readers below flatten payloads into points without using the OpenTelemetry SDK.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverMode = 'ok' | 'fail' | 'hang';

export interface Receiver {
  url: string;
  /** Every payload received, in order (also those answered with 500 or left hanging). */
  payloads: OtlpPayload[];
  /** Request headers of every payload. */
  headers: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** The parts of ExportMetricsServiceRequest (OTLP JSON) the tests read. */
export interface OtlpPayload {
  resourceMetrics: {
    resource: { attributes: KeyValue[] };
    scopeMetrics: { scope: { name: string }; metrics: OtlpMetric[] }[];
  }[];
}
interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number };
}
interface NumberPoint {
  attributes?: KeyValue[];
  asInt?: number | string;
  asDouble?: number;
}
interface HistPoint {
  attributes?: KeyValue[];
  count: number | string;
  sum?: number;
  bucketCounts: (number | string)[];
  explicitBounds: number[];
}
export interface OtlpMetric {
  name: string;
  unit?: string;
  gauge?: { dataPoints: NumberPoint[] };
  sum?: { dataPoints: NumberPoint[]; isMonotonic?: boolean; aggregationTemporality?: number };
  histogram?: { dataPoints: HistPoint[]; aggregationTemporality?: number };
}

export async function startReceiver(mode: ReceiverMode = 'ok'): Promise<Receiver> {
  const payloads: OtlpPayload[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/metrics') return void res.writeHead(404).end();
      payloads.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpPayload);
      headers.push(req.headers);
      if (mode === 'hang') return void hanging.push(res);
      // A careless collector that echoes the request's credentials in its status line and body.
      if (mode === 'fail') return void res.writeHead(500, `rejected ${req.headers.authorization ?? ''}`, { 'content-type': 'text/plain' }).end(`collector broke: ${req.headers.authorization ?? ''}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    payloads,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Resource attributes of a payload as a plain record. */
export function resourceOf(p: OtlpPayload): Record<string, string> {
  return attrs(p.resourceMetrics[0]?.resource.attributes);
}

/** Every metric of a payload by name. */
export function metricsOf(p: OtlpPayload): Map<string, OtlpMetric> {
  const out = new Map<string, OtlpMetric>();
  for (const rm of p.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.name, m);
  return out;
}

/** A gauge's or sum's value for the point whose attributes include `where`; undefined when absent. */
export function pointValue(m: OtlpMetric | undefined, where: Record<string, string>): number | undefined {
  const pts = m?.gauge?.dataPoints ?? m?.sum?.dataPoints ?? [];
  const p = pts.find((x) => Object.entries(where).every(([k, v]) => attrs(x.attributes)[k] === v));
  return p === undefined ? undefined : Number(p.asInt ?? p.asDouble);
}

/** Every point of a gauge or sum as [attributes, value]. */
export function points(m: OtlpMetric | undefined): [Record<string, string>, number][] {
  return (m?.gauge?.dataPoints ?? m?.sum?.dataPoints ?? []).map((x) => [attrs(x.attributes), Number(x.asInt ?? x.asDouble)]);
}

/** A histogram's point for `where`: count, sum, per-bucket counts and bounds. */
export function histogramPoint(m: OtlpMetric | undefined, where: Record<string, string>): { count: number; sum: number; counts: number[]; bounds: number[] } | undefined {
  const p = m?.histogram?.dataPoints.find((x) => Object.entries(where).every(([k, v]) => attrs(x.attributes)[k] === v));
  return p && { count: Number(p.count), sum: Number(p.sum ?? 0), counts: p.bucketCounts.map(Number), bounds: p.explicitBounds };
}

function attrs(kvs: KeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of kvs ?? []) out[kv.key] = String(kv.value.stringValue ?? kv.value.intValue ?? kv.value.doubleValue);
  return out;
}
