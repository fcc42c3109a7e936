"""Generated protocol buffer code."""
from google.protobuf import descriptor as _descriptor
from google.protobuf import descriptor_pool as _descriptor_pool
from google.protobuf import runtime_version as _runtime_version
from google.protobuf import symbol_database as _symbol_database
from google.protobuf.internal import builder as _builder
_runtime_version.ValidateProtobufRuntimeVersion(_runtime_version.Domain.PUBLIC, 7, 35, 1, '', 'cryptopay/v1/types.proto')
_sym_db = _symbol_database.Default()
from google.protobuf import struct_pb2 as google_dot_protobuf_dot_struct__pb2
from google.protobuf import timestamp_pb2 as google_dot_protobuf_dot_timestamp__pb2
DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(b'\n\x18cryptopay/v1/types.proto\x12\x0ccryptopay.v1\x1a\x1cgoogle/protobuf/struct.proto\x1a\x1fgoogle/protobuf/timestamp.proto"}\n\x03App\x12\x0e\n\x06app_id\x18\x01 \x01(\x03\x12\x0c\n\x04name\x18\x02 \x01(\t\x12\'\n\x1fpayment_processing_bot_username\x18\x03 \x01(\t\x12/\n\x0eunknown_fields\x18d \x01(\x0b2\x17.google.protobuf.Struct"\xad\t\n\x07Invoice\x12\x12\n\ninvoice_id\x18\x01 \x01(\x03\x12\x0c\n\x04hash\x18\x02 \x01(\t\x121\n\rcurrency_type\x18\x03 \x01(\x0e2\x1a.cryptopay.v1.CurrencyType\x12\r\n\x05asset\x18\x04 \x01(\t\x12\x0c\n\x04fiat\x18\x05 \x01(\t\x12\x0e\n\x06amount\x18\x06 \x01(\t\x12\x17\n\x0faccepted_assets\x18\x07 \x03(\t\x12\x12\n\npaid_asset\x18\x08 \x01(\t\x12\x13\n\x0bpaid_amount\x18\t \x01(\t\x12\x16\n\x0epaid_fiat_rate\x18\n \x01(\t\x12\x15\n\rpaid_usd_rate\x18\x0b \x01(\t\x12\x14\n\x08usd_rate\x18\x0c \x01(\tB\x02\x18\x01\x12\x11\n\tfee_asset\x18\r \x01(\t\x12\x12\n\nfee_amount\x18\x0e \x01(\t\x12\x0f\n\x03fee\x18\x0f \x01(\tB\x02\x18\x01\x12\x12\n\nfee_in_usd\x18\x10 \x01(\t\x12\x13\n\x07pay_url\x18\x11 \x01(\tB\x02\x18\x01\x12\x17\n\x0fbot_invoice_url\x18\x12 \x01(\t\x12\x1c\n\x14mini_app_invoice_url\x18\x13 \x01(\t\x12\x1b\n\x13web_app_invoice_url\x18\x14 \x01(\t\x12\x13\n\x0bdescription\x18\x15 \x01(\t\x12\x16\n\x0ehidden_message\x18\x16 \x01(\t\x12\x0f\n\x07payload\x18\x17 \x01(\t\x123\n\rpaid_btn_name\x18\x18 \x01(\x0e2\x1c.cryptopay.v1.PaidButtonName\x12\x14\n\x0cpaid_btn_url\x18\x19 \x01(\t\x12\x0f\n\x07comment\x18\x1a \x01(\t\x12+\n\x06status\x18\x1b \x01(\x0e2\x1b.cryptopay.v1.InvoiceStatus\x12.\n\ncreated_at\x18\x1c \x01(\x0b2\x1a.google.protobuf.Timestamp\x123\n\x0fexpiration_date\x18\x1d \x01(\x0b2\x1a.google.protobuf.Timestamp\x12+\n\x07paid_at\x18\x1e \x01(\x0b2\x1a.google.protobuf.Timestamp\x12\x1d\n\x10paid_anonymously\x18\x1f \x01(\x08H\x00\x88\x01\x01\x12\x1b\n\x0eallow_comments\x18  \x01(\x08H\x01\x88\x01\x01\x12\x1c\n\x0fallow_anonymous\x18! \x01(\x08H\x02\x88\x01\x01\x12\x0f\n\x07swap_to\x18" \x01(\t\x12\x17\n\nis_swapped\x18# \x01(\x08H\x03\x88\x01\x01\x12\x13\n\x0bswapped_uid\x18$ \x01(\t\x12\x12\n\nswapped_to\x18% \x01(\t\x12\x14\n\x0cswapped_rate\x18& \x01(\t\x12\x16\n\x0eswapped_output\x18\' \x01(\t\x12\x1a\n\x12swapped_usd_amount\x18( \x01(\t\x12\x18\n\x10swapped_usd_rate\x18) \x01(\t\x12/\n\x0eunknown_fields\x18d \x01(\x0b2\x17.google.protobuf.StructB\x13\n\x11_paid_anonymouslyB\x11\n\x0f_allow_commentsB\x12\n\x10_allow_anonymousB\r\n\x0b_is_swapped"\x9b\x02\n\x05Check\x12\x10\n\x08check_id\x18\x01 \x01(\x03\x12\x0c\n\x04hash\x18\x02 \x01(\t\x12\r\n\x05asset\x18\x03 \x01(\t\x12\x0e\n\x06amount\x18\x04 \x01(\t\x12\x15\n\rbot_check_url\x18\x05 \x01(\t\x12)\n\x06status\x18\x06 \x01(\x0e2\x19.cryptopay.v1.CheckStatus\x12.\n\ncreated_at\x18\x07 \x01(\x0b2\x1a.google.protobuf.Timestamp\x120\n\x0cactivated_at\x18\x08 \x01(\x0b2\x1a.google.protobuf.Timestamp\x12/\n\x0eunknown_fields\x18d \x01(\x0b2\x17.google.protobuf.Struct"\x83\x02\n\x08Transfer\x12\x13\n\x0btransfer_id\x18\x01 \x01(\x03\x12\x10\n\x08spend_id\x18\x02 \x01(\t\x12\x0f\n\x07user_id\x18\x03 \x01(\x03\x12\r\n\x05asset\x18\x04 \x01(\t\x12\x0e\n\x06amount\x18\x05 \x01(\t\x12,\n\x06status\x18\x06 \x01(\x0e2\x1c.cryptopay.v1.TransferStatus\x120\n\x0ccompleted_at\x18\x07 \x01(\x0b2\x1a.google.protobuf.Timestamp\x12\x0f\n\x07comment\x18\x08 \x01(\t\x12/\n\x0eunknown_fields\x18d \x01(\x0b2\x17.google.protobuf.Struct"t\n\x07Balance\x12\x15\n\rcurrency_code\x18\x01 \x01(\t\x12\x11\n\tavailable\x18\x02 \x01(\t\x12\x0e\n\x06onhold\x18\x03 \x01(\t\x12/\n\x0eunknown_fields\x18d \x01(\x0b2\x17.google.protobuf.Struct"\xa3\x01\n\x0cExchangeRate\x12\x10\n\x08is_valid\x18\x01 \x01(\x08\x12\x11\n\tis_crypto\x18\x02 \x01(\x08\x12\x0f\n\x07is_fiat\x18\x03 \x01(\x08\x12\x0e\n\x06source\x18\x04 \x01(\t\x12\x0e\n\x06target\x18\x05 \x01(\t\x12\x0c\n\x04rate\x18\x06 \x01(\t\x12/\n\x0eunknown_fields\x18d \x01(\x0b2\x17.google.protobuf.Struct"\xb5\x01\n\x08Currency\x12\x15\n\ris_blockchain\x18\x01 \x01(\x08\x12\x15\n\ris_stablecoin\x18\x02 \x01(\x08\x12\x0f\n\x07is_fiat\x18\x03 \x01(\x08\x12\x0c\n\x04name\x18\x04 \x01(\t\x12\x0c\n\x04code\x18\x05 \x01(\t\x12\x0b\n\x03url\x18\x06 \x01(\t\x12\x10\n\x08decimals\x18\x07 \x01(\x05\x12/\n\x0eunknown_fields\x18d \x01(\x0b2\x17.google.protobuf.Struct"\x90\x02\n\x08AppStats\x12\x0e\n\x06volume\x18\x01 \x01(\t\x12\x12\n\nconversion\x18\x02 \x01(\t\x12\x1a\n\x12unique_users_count\x18\x03 \x01(\x03\x12\x1d\n\x15created_invoice_count\x18\x04 \x01(\x03\x12\x1a\n\x12paid_invoice_count\x18\x05 \x01(\x03\x12,\n\x08start_at\x18\x06 \x01(\x0b2\x1a.google.protobuf.Timestamp\x12*\n\x06end_at\x18\x07 \x01(\x0b2\x1a.google.protobuf.Timestamp\x12/\n\x0eunknown_fields\x18d \x01(\x0b2\x17.google.protobuf.Struct*_\n\x0cCurrencyType\x12\x1d\n\x19CURRENCY_TYPE_UNSPECIFIED\x10\x00\x12\x18\n\x14CURRENCY_TYPE_CRYPTO\x10\x01\x12\x16\n\x12CURRENCY_TYPE_FIAT\x10\x02*\x7f\n\rInvoiceStatus\x12\x1e\n\x1aINVOICE_STATUS_UNSPECIFIED\x10\x00\x12\x19\n\x15INVOICE_STATUS_ACTIVE\x10\x01\x12\x17\n\x13INVOICE_STATUS_PAID\x10\x02\x12\x1a\n\x16INVOICE_STATUS_EXPIRED\x10\x03*`\n\x0bCheckStatus\x12\x1c\n\x18CHECK_STATUS_UNSPECIFIED\x10\x00\x12\x17\n\x13CHECK_STATUS_ACTIVE\x10\x01\x12\x1a\n\x16CHECK_STATUS_ACTIVATED\x10\x02*P\n\x0eTransferStatus\x12\x1f\n\x1bTRANSFER_STATUS_UNSPECIFIED\x10\x00\x12\x1d\n\x19TRANSFER_STATUS_COMPLETED\x10\x01*\xb3\x01\n\x0ePaidButtonName\x12 \n\x1cPAID_BUTTON_NAME_UNSPECIFIED\x10\x00\x12\x1e\n\x1aPAID_BUTTON_NAME_VIEW_ITEM\x10\x01\x12!\n\x1dPAID_BUTTON_NAME_OPEN_CHANNEL\x10\x02\x12\x1d\n\x19PAID_BUTTON_NAME_OPEN_BOT\x10\x03\x12\x1d\n\x19PAID_BUTTON_NAME_CALLBACK\x10\x04b\x06proto3')
_globals = globals()
_builder.BuildMessageAndEnumDescriptors(DESCRIPTOR, _globals)
_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'cryptopay.v1.types_pb2', _globals)
if not _descriptor._USE_C_DESCRIPTORS:
    DESCRIPTOR._loaded_options = None
    _globals['_INVOICE'].fields_by_name['usd_rate']._loaded_options = None
    _globals['_INVOICE'].fields_by_name['usd_rate']._serialized_options = b'\x18\x01'
    _globals['_INVOICE'].fields_by_name['fee']._loaded_options = None
    _globals['_INVOICE'].fields_by_name['fee']._serialized_options = b'\x18\x01'
    _globals['_INVOICE'].fields_by_name['pay_url']._loaded_options = None
    _globals['_INVOICE'].fields_by_name['pay_url']._serialized_options = b'\x18\x01'
    _globals['_CURRENCYTYPE']._serialized_start = 2723
    _globals['_CURRENCYTYPE']._serialized_end = 2818
    _globals['_INVOICESTATUS']._serialized_start = 2820
    _globals['_INVOICESTATUS']._serialized_end = 2947
    _globals['_CHECKSTATUS']._serialized_start = 2949
    _globals['_CHECKSTATUS']._serialized_end = 3045
    _globals['_TRANSFERSTATUS']._serialized_start = 3047
    _globals['_TRANSFERSTATUS']._serialized_end = 3127
    _globals['_PAIDBUTTONNAME']._serialized_start = 3130
    _globals['_PAIDBUTTONNAME']._serialized_end = 3309
    _globals['_APP']._serialized_start = 105
    _globals['_APP']._serialized_end = 230
    _globals['_INVOICE']._serialized_start = 233
    _globals['_INVOICE']._serialized_end = 1430
    _globals['_CHECK']._serialized_start = 1433
    _globals['_CHECK']._serialized_end = 1716
    _globals['_TRANSFER']._serialized_start = 1719
    _globals['_TRANSFER']._serialized_end = 1978
    _globals['_BALANCE']._serialized_start = 1980
    _globals['_BALANCE']._serialized_end = 2096
    _globals['_EXCHANGERATE']._serialized_start = 2099
    _globals['_EXCHANGERATE']._serialized_end = 2262
    _globals['_CURRENCY']._serialized_start = 2265
    _globals['_CURRENCY']._serialized_end = 2446
    _globals['_APPSTATS']._serialized_start = 2449
    _globals['_APPSTATS']._serialized_end = 2721