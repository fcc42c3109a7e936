// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { AppStats as _cryptopay_v1_AppStats, AppStats__Output as _cryptopay_v1_AppStats__Output } from '../../cryptopay/v1/AppStats';

export interface GetStatsResponse {
  'stats'?: (_cryptopay_v1_AppStats | null);
}

export interface GetStatsResponse__Output {
  'stats': (_cryptopay_v1_AppStats__Output | null);
}
