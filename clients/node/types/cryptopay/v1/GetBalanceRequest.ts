// Original file: proto/cryptopay/v1/cryptopay_service.proto


export interface GetBalanceRequest {
}

export interface GetBalanceRequest__Output {
}
