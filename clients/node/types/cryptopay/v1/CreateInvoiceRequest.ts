// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { CurrencyType as _cryptopay_v1_CurrencyType, CurrencyType__Output as _cryptopay_v1_CurrencyType__Output } from '../../cryptopay/v1/CurrencyType';
import type { PaidButtonName as _cryptopay_v1_PaidButtonName, PaidButtonName__Output as _cryptopay_v1_PaidButtonName__Output } from '../../cryptopay/v1/PaidButtonName';

export interface CreateInvoiceRequest {
  'currency_type'?: (_cryptopay_v1_CurrencyType);
  'asset'?: (string);
  'fiat'?: (string);
  'accepted_assets'?: (string)[];
  'amount'?: (string);
  'description'?: (string);
  'hidden_message'?: (string);
  'paid_btn_name'?: (_cryptopay_v1_PaidButtonName);
  'paid_btn_url'?: (string);
  'payload'?: (string);
  'allow_comments'?: (boolean);
  'allow_anonymous'?: (boolean);
  'expires_in'?: (number);
  'swap_to'?: (string);
  '_allow_comments'?: "allow_comments";
  '_allow_anonymous'?: "allow_anonymous";
}

export interface CreateInvoiceRequest__Output {
  'currency_type': (_cryptopay_v1_CurrencyType__Output);
  'asset': (string);
  'fiat': (string);
  'accepted_assets': (string)[];
  'amount': (string);
  'description': (string);
  'hidden_message': (string);
  'paid_btn_name': (_cryptopay_v1_PaidButtonName__Output);
  'paid_btn_url': (string);
  'payload': (string);
  'allow_comments'?: (boolean);
  'allow_anonymous'?: (boolean);
  'expires_in': (number);
  'swap_to': (string);
  '_allow_comments'?: "allow_comments";
  '_allow_anonymous'?: "allow_anonymous";
}
