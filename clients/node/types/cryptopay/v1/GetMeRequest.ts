// Original file: proto/cryptopay/v1/cryptopay_service.proto


export interface GetMeRequest {
}

export interface GetMeRequest__Output {
}
