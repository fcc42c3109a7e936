// Original file: proto/cryptopay/v1/cryptopay_service.proto


export interface GetExchangeRatesRequest {
}

export interface GetExchangeRatesRequest__Output {
}
