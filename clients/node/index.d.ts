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

/**
 * TLS to a sidecar serving it (--tls-cert), and mTLS (--tls-client-ca). Each option left unset
 * falls back to its variable: CRYPTOPAY_SIDECAR_TLS, CRYPTOPAY_SIDECAR_CA_FILE,
 * CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE, CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE,
 * CRYPTOPAY_SIDECAR_SERVER_NAME. With none of them the client speaks plaintext.
 */
export interface TlsOptions {
  /** TLS, the server verified against the system's trust store (or caFile); false forces plaintext. */
  tls?: boolean | null;
  /** PEM CA bundle to verify the server with instead of the system's trust store (implies TLS). */
  caFile?: string | null;
  /** PEM client certificate (chain) for mTLS; needs keyFile (implies TLS). */
  certFile?: string | null;
  /** PEM private key of certFile; needs certFile. */
  keyFile?: string | null;
  /** The name the server certificate must carry, when not the target's host (implies TLS). */
  serverName?: string | null;
}

/** What resolveTls made of the options and the environment. */
export interface TlsSettings {
  readonly caFile: string | null;
  readonly certFile: string | null;
  readonly keyFile: string | null;
  readonly serverName: string | null;
  /** A client certificate is shown (mTLS). */
  readonly mutual: boolean;
  /** Where each value came from: the option's name, or '$' and the variable's. */
  readonly sources: Readonly<Partial<Record<'caFile' | 'certFile' | 'keyFile' | 'serverName', string>>>;
}

/** TLS options that cannot work together, or a file that cannot be used. */
export class TlsConfigError extends Error {
  constructor(message: string, details?: { option?: string | null; path?: string | null });
  readonly name: 'TlsConfigError';
  /** The option (or '$' and the variable) at fault. */
  readonly option: string | null;
  /** The file at fault, when there is one. */
  readonly path: string | null;
}

export const TLS_ENV: 'CRYPTOPAY_SIDECAR_TLS';
export const CA_FILE_ENV: 'CRYPTOPAY_SIDECAR_CA_FILE';
export const CLIENT_CERT_FILE_ENV: 'CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE';
export const CLIENT_KEY_FILE_ENV: 'CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE';
export const SERVER_NAME_ENV: 'CRYPTOPAY_SIDECAR_SERVER_NAME';
/** Where the system's CA bundle is looked for (after $SSL_CERT_FILE), in order. */
export const SYSTEM_BUNDLES: readonly string[];

type Environment = Record<string, string | undefined>;

/** The TLS settings `options` and `env` (default process.env) ask for; null for plaintext. */
export function resolveTls(options?: TlsOptions, env?: Environment): TlsSettings | null;
/** Credentials for `settings`; reads and checks the files now (TlsConfigError naming them). */
export function tlsCredentials(settings: TlsSettings): grpc.ChannelCredentials;
/** grpc.ssl_target_name_override when serverName is set. */
export function tlsChannelOptions(settings: TlsSettings): grpc.ChannelOptions;
/** Adds what the sidecar most likely wanted to an UNAVAILABLE after a close post-handshake. */
export function tlsRefusalInterceptor(settings: TlsSettings): grpc.Interceptor;
/** The system's trust store: $SSL_CERT_FILE or the distribution's CA bundle; null if none. */
export function systemRootCertificates(env?: Environment, candidates?: readonly string[]): Buffer | null;
/** The credentials, channel options and interceptors a client with `options` is made with. */
export function channelSecurity(
  options?: ClientOptions,
  env?: Environment,
): {
  credentials: grpc.ChannelCredentials;
  channelOptions: grpc.ChannelOptions;
  interceptors: grpc.Interceptor[];
};

export interface ClientOptions extends TlsOptions {
  /** Channel credentials of your own, instead of the TLS options. Default: plaintext. */
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
