"""Generated protocol buffer code."""
from google.protobuf import descriptor as _descriptor
from google.protobuf import descriptor_pool as _descriptor_pool
from google.protobuf import runtime_version as _runtime_version
from google.protobuf import symbol_database as _symbol_database
from google.protobuf.internal import builder as _builder
_runtime_version.ValidateProtobufRuntimeVersion(_runtime_version.Domain.PUBLIC, 7, 35, 1, '', 'cryptopay/v1/cryptopay_service.proto')
_sym_db = _symbol_database.Default()
from ...cryptopay.v1 import types_pb2 as cryptopay_dot_v1_dot_types__pb2
from google.protobuf import timestamp_pb2 as google_dot_protobuf_dot_timestamp__pb2
DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(b'\n$cryptopay/v1/cryptopay_service.proto\x12\x0ccryptopay.v1\x1a\x18cryptopay/v1/types.proto\x1a\x1fgoogle/protobuf/timestamp.proto"\x0e\n\x0cGetMeRequest"/\n\rGetMeResponse\x12\x1e\n\x03app\x18\x01 \x01(\x0b2\x11.cryptopay.v1.App"\x9f\x03\n\x14CreateInvoiceRequest\x121\n\rcurrency_type\x18\x01 \x01(\x0e2\x1a.cryptopay.v1.CurrencyType\x12\r\n\x05asset\x18\x02 \x01(\t\x12\x0c\n\x04fiat\x18\x03 \x01(\t\x12\x17\n\x0faccepted_assets\x18\x04 \x03(\t\x12\x0e\n\x06amount\x18\x05 \x01(\t\x12\x13\n\x0bdescription\x18\x06 \x01(\t\x12\x16\n\x0ehidden_message\x18\x07 \x01(\t\x123\n\rpaid_btn_name\x18\x08 \x01(\x0e2\x1c.cryptopay.v1.PaidButtonName\x12\x14\n\x0cpaid_btn_url\x18\t \x01(\t\x12\x0f\n\x07payload\x18\n \x01(\t\x12\x1b\n\x0eallow_comments\x18\x0b \x01(\x08H\x00\x88\x01\x01\x12\x1c\n\x0fallow_anonymous\x18\x0c \x01(\x08H\x01\x88\x01\x01\x12\x12\n\nexpires_in\x18\r \x01(\x05\x12\x0f\n\x07swap_to\x18\x0e \x01(\tB\x11\n\x0f_allow_commentsB\x12\n\x10_allow_anonymous"?\n\x15CreateInvoiceResponse\x12&\n\x07invoice\x18\x01 \x01(\x0b2\x15.cryptopay.v1.Invoice"*\n\x14DeleteInvoiceRequest\x12\x12\n\ninvoice_id\x18\x01 \x01(\x03"(\n\x15DeleteInvoiceResponse\x12\x0f\n\x07deleted\x18\x01 \x01(\x08"d\n\x12CreateCheckRequest\x12\r\n\x05asset\x18\x01 \x01(\t\x12\x0e\n\x06amount\x18\x02 \x01(\t\x12\x16\n\x0epin_to_user_id\x18\x03 \x01(\x03\x12\x17\n\x0fpin_to_username\x18\x04 \x01(\t"9\n\x13CreateCheckResponse\x12"\n\x05check\x18\x01 \x01(\x0b2\x13.cryptopay.v1.Check"&\n\x12DeleteCheckRequest\x12\x10\n\x08check_id\x18\x01 \x01(\x03"&\n\x13DeleteCheckResponse\x12\x0f\n\x07deleted\x18\x01 \x01(\x08"\xaa\x01\n\x0fTransferRequest\x12\x0f\n\x07user_id\x18\x01 \x01(\x03\x12\r\n\x05asset\x18\x02 \x01(\t\x12\x0e\n\x06amount\x18\x03 \x01(\t\x12\x10\n\x08spend_id\x18\x04 \x01(\t\x12\x0f\n\x07comment\x18\x05 \x01(\t\x12&\n\x19disable_send_notification\x18\x06 \x01(\x08H\x00\x88\x01\x01B\x1c\n\x1a_disable_send_notification"<\n\x10TransferResponse\x12(\n\x08transfer\x18\x01 \x01(\x0b2\x16.cryptopay.v1.Transfer"\x92\x01\n\x12GetInvoicesRequest\x12\r\n\x05asset\x18\x01 \x01(\t\x12\x0c\n\x04fiat\x18\x02 \x01(\t\x12\x13\n\x0binvoice_ids\x18\x03 \x03(\x03\x12+\n\x06status\x18\x04 \x01(\x0e2\x1b.cryptopay.v1.InvoiceStatus\x12\x0e\n\x06offset\x18\x05 \x01(\x05\x12\r\n\x05count\x18\x06 \x01(\x05";\n\x13GetInvoicesResponse\x12$\n\x05items\x18\x01 \x03(\x0b2\x15.cryptopay.v1.Invoice"k\n\x13GetTransfersRequest\x12\r\n\x05asset\x18\x01 \x01(\t\x12\x14\n\x0ctransfer_ids\x18\x02 \x03(\x03\x12\x10\n\x08spend_id\x18\x03 \x01(\t\x12\x0e\n\x06offset\x18\x04 \x01(\x05\x12\r\n\x05count\x18\x05 \x01(\x05"=\n\x14GetTransfersResponse\x12%\n\x05items\x18\x01 \x03(\x0b2\x16.cryptopay.v1.Transfer"~\n\x10GetChecksRequest\x12\r\n\x05asset\x18\x01 \x01(\t\x12\x11\n\tcheck_ids\x18\x02 \x03(\x03\x12)\n\x06status\x18\x03 \x01(\x0e2\x19.cryptopay.v1.CheckStatus\x12\x0e\n\x06offset\x18\x04 \x01(\x05\x12\r\n\x05count\x18\x05 \x01(\x05"7\n\x11GetChecksResponse\x12"\n\x05items\x18\x01 \x03(\x0b2\x13.cryptopay.v1.Check"\x13\n\x11GetBalanceRequest":\n\x12GetBalanceResponse\x12$\n\x05items\x18\x01 \x03(\x0b2\x15.cryptopay.v1.Balance"\x19\n\x17GetExchangeRatesRequest"E\n\x18GetExchangeRatesResponse\x12)\n\x05items\x18\x01 \x03(\x0b2\x1a.cryptopay.v1.ExchangeRate"\x16\n\x14GetCurrenciesRequest">\n\x15GetCurrenciesResponse\x12%\n\x05items\x18\x01 \x03(\x0b2\x16.cryptopay.v1.Currency"k\n\x0fGetStatsRequest\x12,\n\x08start_at\x18\x01 \x01(\x0b2\x1a.google.protobuf.Timestamp\x12*\n\x06end_at\x18\x02 \x01(\x0b2\x1a.google.protobuf.Timestamp"9\n\x10GetStatsResponse\x12%\n\x05stats\x18\x01 \x01(\x0b2\x16.cryptopay.v1.AppStats2\xcd\x08\n\x10CryptoPayService\x12@\n\x05GetMe\x12\x1a.cryptopay.v1.GetMeRequest\x1a\x1b.cryptopay.v1.GetMeResponse\x12X\n\rCreateInvoice\x12".cryptopay.v1.CreateInvoiceRequest\x1a#.cryptopay.v1.CreateInvoiceResponse\x12X\n\rDeleteInvoice\x12".cryptopay.v1.DeleteInvoiceRequest\x1a#.cryptopay.v1.DeleteInvoiceResponse\x12R\n\x0bCreateCheck\x12 .cryptopay.v1.CreateCheckRequest\x1a!.cryptopay.v1.CreateCheckResponse\x12R\n\x0bDeleteCheck\x12 .cryptopay.v1.DeleteCheckRequest\x1a!.cryptopay.v1.DeleteCheckResponse\x12I\n\x08Transfer\x12\x1d.cryptopay.v1.TransferRequest\x1a\x1e.cryptopay.v1.TransferResponse\x12R\n\x0bGetInvoices\x12 .cryptopay.v1.GetInvoicesRequest\x1a!.cryptopay.v1.GetInvoicesResponse\x12U\n\x0cGetTransfers\x12!.cryptopay.v1.GetTransfersRequest\x1a".cryptopay.v1.GetTransfersResponse\x12L\n\tGetChecks\x12\x1e.cryptopay.v1.GetChecksRequest\x1a\x1f.cryptopay.v1.GetChecksResponse\x12O\n\nGetBalance\x12\x1f.cryptopay.v1.GetBalanceRequest\x1a .cryptopay.v1.GetBalanceResponse\x12a\n\x10GetExchangeRates\x12%.cryptopay.v1.GetExchangeRatesRequest\x1a&.cryptopay.v1.GetExchangeRatesResponse\x12X\n\rGetCurrencies\x12".cryptopay.v1.GetCurrenciesRequest\x1a#.cryptopay.v1.GetCurrenciesResponse\x12I\n\x08GetStats\x12\x1d.cryptopay.v1.GetStatsRequest\x1a\x1e.cryptopay.v1.GetStatsResponseb\x06proto3')
_globals = globals()
_builder.BuildMessageAndEnumDescriptors(DESCRIPTOR, _globals)
_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'cryptopay.v1.cryptopay_service_pb2', _globals)
if not _descriptor._USE_C_DESCRIPTORS:
    DESCRIPTOR._loaded_options = None
    _globals['_GETMEREQUEST']._serialized_start = 113
    _globals['_GETMEREQUEST']._serialized_end = 127
    _globals['_GETMERESPONSE']._serialized_start = 129
    _globals['_GETMERESPONSE']._serialized_end = 176
    _globals['_CREATEINVOICEREQUEST']._serialized_start = 179
    _globals['_CREATEINVOICEREQUEST']._serialized_end = 594
    _globals['_CREATEINVOICERESPONSE']._serialized_start = 596
    _globals['_CREATEINVOICERESPONSE']._serialized_end = 659
    _globals['_DELETEINVOICEREQUEST']._serialized_start = 661
    _globals['_DELETEINVOICEREQUEST']._serialized_end = 703
    _globals['_DELETEINVOICERESPONSE']._serialized_start = 705
    _globals['_DELETEINVOICERESPONSE']._serialized_end = 745
    _globals['_CREATECHECKREQUEST']._serialized_start = 747
    _globals['_CREATECHECKREQUEST']._serialized_end = 847
    _globals['_CREATECHECKRESPONSE']._serialized_start = 849
    _globals['_CREATECHECKRESPONSE']._serialized_end = 906
    _globals['_DELETECHECKREQUEST']._serialized_start = 908
    _globals['_DELETECHECKREQUEST']._serialized_end = 946
    _globals['_DELETECHECKRESPONSE']._serialized_start = 948
    _globals['_DELETECHECKRESPONSE']._serialized_end = 986
    _globals['_TRANSFERREQUEST']._serialized_start = 989
    _globals['_TRANSFERREQUEST']._serialized_end = 1159
    _globals['_TRANSFERRESPONSE']._serialized_start = 1161
    _globals['_TRANSFERRESPONSE']._serialized_end = 1221
    _globals['_GETINVOICESREQUEST']._serialized_start = 1224
    _globals['_GETINVOICESREQUEST']._serialized_end = 1370
    _globals['_GETINVOICESRESPONSE']._serialized_start = 1372
    _globals['_GETINVOICESRESPONSE']._serialized_end = 1431
    _globals['_GETTRANSFERSREQUEST']._serialized_start = 1433
    _globals['_GETTRANSFERSREQUEST']._serialized_end = 1540
    _globals['_GETTRANSFERSRESPONSE']._serialized_start = 1542
    _globals['_GETTRANSFERSRESPONSE']._serialized_end = 1603
    _globals['_GETCHECKSREQUEST']._serialized_start = 1605
    _globals['_GETCHECKSREQUEST']._serialized_end = 1731
    _globals['_GETCHECKSRESPONSE']._serialized_start = 1733
    _globals['_GETCHECKSRESPONSE']._serialized_end = 1788
    _globals['_GETBALANCEREQUEST']._serialized_start = 1790
    _globals['_GETBALANCEREQUEST']._serialized_end = 1809
    _globals['_GETBALANCERESPONSE']._serialized_start = 1811
    _globals['_GETBALANCERESPONSE']._serialized_end = 1869
    _globals['_GETEXCHANGERATESREQUEST']._serialized_start = 1871
    _globals['_GETEXCHANGERATESREQUEST']._serialized_end = 1896
    _globals['_GETEXCHANGERATESRESPONSE']._serialized_start = 1898
    _globals['_GETEXCHANGERATESRESPONSE']._serialized_end = 1967
    _globals['_GETCURRENCIESREQUEST']._serialized_start = 1969
    _globals['_GETCURRENCIESREQUEST']._serialized_end = 1991
    _globals['_GETCURRENCIESRESPONSE']._serialized_start = 1993
    _globals['_GETCURRENCIESRESPONSE']._serialized_end = 2055
    _globals['_GETSTATSREQUEST']._serialized_start = 2057
    _globals['_GETSTATSREQUEST']._serialized_end = 2164
    _globals['_GETSTATSRESPONSE']._serialized_start = 2166
    _globals['_GETSTATSRESPONSE']._serialized_end = 2223
    _globals['_CRYPTOPAYSERVICE']._serialized_start = 2226
    _globals['_CRYPTOPAYSERVICE']._serialized_end = 3327