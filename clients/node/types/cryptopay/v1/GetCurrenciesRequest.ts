// Original file: proto/cryptopay/v1/cryptopay_service.proto


export interface GetCurrenciesRequest {
}

export interface GetCurrenciesRequest__Output {
}
