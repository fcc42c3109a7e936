// Type declarations for @cryptopay-sidecar/client. Message and service types are generated from
// the proto (types/, by clients/generate); these declare the conveniences around them.
import type * as grpc from '@grpc/grpc-js';
import type { CryptoPayServiceClient } from './types/cryptopay/v1/CryptoPayService';

export type { CryptoPayServiceClient } from './types/cryptopay/v1/CryptoPayService';
export type { ProtoGrpcType } from './types/cryptopay_service';

export const DEFAULT_TARGET: string;
export const TARGET_ENV: string;
export const READ_METHODS: readonly string[];
export const IDEMPOTENCY_KEY: 'idempotency-key';
export const REPLAYED: 'idempotent-replayed';
export const PROTO_DIR: string;
export const LOADER_OPTIONS: Readonly<Record<string, unknown>>;
export const RETRYABLE_REASONS: ReadonlySet<string>;
export const UNKNOWN_OUTCOME_REASONS: ReadonlySet<string>;
export const RESUMABLE_CODES: ReadonlySet<grpc.status>;

export interface Backoff {
  baseMs?: number;
  capMs?: number;
}

export interface ClientOptions {
  credentials?: grpc.ChannelCredentials;
  /** Sent with every call unless the call sets the same key (e.g. a policy's caller identity). */
  metadata?: Record<string, string>;
  /** Deadline of unary calls that set none; null for none. Default 30000. */
  defaultTimeoutMs?: number | null;
  /** Let gRPC retry reads (Get*) on UNAVAILABLE. Default true. */
  retryReads?: boolean;
  keepaliveMs?: number;
  channelOptions?: grpc.ChannelOptions;
  interceptors?: grpc.Interceptor[];
}

export function resolveTarget(target?: string | null): string;
export function serviceConfig(options?: { retryReads?: boolean }): Record<string, unknown>;
export function channelOptions(options?: {
  retryReads?: boolean;
  keepaliveMs?: number;
  extra?: grpc.ChannelOptions;
}): grpc.ChannelOptions;
export function defaultsInterceptor(
  metadata: Record<string, string>,
  defaultTimeoutMs: number | null,
): grpc.Interceptor;
export function createClient(target?: string | null, options?: ClientOptions): CryptoPayServiceClient;
export function createWebhookClient(target?: string | null, options?: ClientOptions): grpc.Client;
export function loadApi(): Record<string, any>;

export interface ErrorDetails {
  code: grpc.status;
  message: string;
  /** google.rpc.ErrorInfo reason: the Crypto Pay error name or the sidecar's own. */
  reason: string | null;
  domain: string | null;
  metadata: Record<string, string>;
  retryDelayMs: number | null;
  /** Bad request field -> what is wrong with it. */
  violations: Record<string, string>;
}
export function errorDetails(error: grpc.ServiceError): ErrorDetails;

export const REPEATABLE_METHODS: ReadonlySet<string>;
export function mayResend(
  code: grpc.status,
  reason: string | null | undefined,
  options?: { repeatable?: boolean },
): boolean;
export function backoffDelay(attempt: number, backoff?: Backoff, rand?: () => number): number;
export function nextWait(
  backoff: Backoff,
  attempt: number,
  serverDelayMs: number | null,
  remainingMs: number,
  rand?: () => number,
): number | null;

export function newIdempotencyKey(): string;
export function idempotencyMetadata(key: string, extra?: Record<string, string>): grpc.Metadata;

export interface Idempotent<Response> {
  response: Response;
  key: string;
  attempts: number;
  replayed: boolean;
}
export function callIdempotent<Response = any>(
  client: grpc.Client,
  method: string,
  request: object,
  options?: {
    key?: string;
    timeoutMs?: number;
    maxAttempts?: number;
    backoff?: Backoff;
    metadata?: Record<string, string>;
  },
): Promise<Idempotent<Response>>;

export function resumable<Event>(
  openStream: (after: string | null) => AsyncIterable<Event>,
  eventId: (event: Event) => string,
  options?: {
    after?: string | null;
    backoff?: Backoff;
    resumableCodes?: ReadonlySet<grpc.status>;
    maxFailures?: number | null;
  },
): AsyncGenerator<Event, never, undefined>;

export function subscribeEvents(
  webhookClient: grpc.Client,
  options?: {
    after?: string | null;
    start?: 'START_POSITION_LATEST' | 'START_POSITION_EARLIEST';
    group?: string;
    consumer?: string | null;
    updateTypes?: string[];
    assets?: string[];
    maxInFlight?: number;
    visibilityTimeoutMs?: number | null;
    backoff?: Backoff;
    maxFailures?: number | null;
  },
): AsyncGenerator<any, never, undefined>;
export function ackEvents(webhookClient: grpc.Client, group: string, eventIds: string[]): Promise<number>;
export function nackEvents(webhookClient: grpc.Client, group: string, eventIds: string[]): Promise<number>;
