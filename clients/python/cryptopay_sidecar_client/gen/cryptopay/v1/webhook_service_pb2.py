"""Generated protocol buffer code."""
from google.protobuf import descriptor as _descriptor
from google.protobuf import descriptor_pool as _descriptor_pool
from google.protobuf import runtime_version as _runtime_version
from google.protobuf import symbol_database as _symbol_database
from google.protobuf.internal import builder as _builder
_runtime_version.ValidateProtobufRuntimeVersion(_runtime_version.Domain.PUBLIC, 7, 35, 1, '', 'cryptopay/v1/webhook_service.proto')
_sym_db = _symbol_database.Default()
from ...cryptopay.v1 import types_pb2 as cryptopay_dot_v1_dot_types__pb2
from google.protobuf import duration_pb2 as google_dot_protobuf_dot_duration__pb2
from google.protobuf import timestamp_pb2 as google_dot_protobuf_dot_timestamp__pb2
DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(b'\n"cryptopay/v1/webhook_service.proto\x12\x0ccryptopay.v1\x1a\x18cryptopay/v1/types.proto\x1a\x1egoogle/protobuf/duration.proto\x1a\x1fgoogle/protobuf/timestamp.proto"\xeb\x01\n\x10SubscribeRequest\x12*\n\x05start\x18\x01 \x01(\x0e2\x1b.cryptopay.v1.StartPosition\x12\x16\n\x0eafter_event_id\x18\x02 \x01(\t\x12\r\n\x05group\x18\x03 \x01(\t\x12\x10\n\x08consumer\x18\x04 \x01(\t\x12\x14\n\x0cupdate_types\x18\x05 \x03(\t\x12\x0e\n\x06assets\x18\x06 \x03(\t\x12\x15\n\rmax_in_flight\x18\x07 \x01(\r\x125\n\x12visibility_timeout\x18\x08 \x01(\x0b2\x19.google.protobuf.Duration">\n\x11SubscribeResponse\x12)\n\x05event\x18\x01 \x01(\x0b2\x1a.cryptopay.v1.WebhookEvent"\xbd\x02\n\x0cWebhookEvent\x12\x10\n\x08event_id\x18\x01 \x01(\t\x12\x13\n\x0bupdate_type\x18\x02 \x01(\t\x12\x11\n\tupdate_id\x18\x03 \x01(\x03\x12&\n\x07invoice\x18\x04 \x01(\x0b2\x15.cryptopay.v1.Invoice\x12\x10\n\x08raw_body\x18\x05 \x01(\x0c\x12\x11\n\tsignature\x18\x06 \x01(\t\x12/\n\x0breceived_at\x18\x07 \x01(\x0b2\x1a.google.protobuf.Timestamp\x120\n\x0crequest_date\x18\x08 \x01(\x0b2\x1a.google.protobuf.Timestamp\x12\x11\n\tsynthetic\x18\t \x01(\x08\x12\x18\n\x10delivery_attempt\x18\n \x01(\r\x12\x16\n\x0euntyped_fields\x18\x0b \x03(\t".\n\nAckRequest\x12\r\n\x05group\x18\x01 \x01(\t\x12\x11\n\tevent_ids\x18\x02 \x03(\t"#\n\x0bAckResponse\x12\x14\n\x0cacknowledged\x18\x01 \x01(\r"/\n\x0bNackRequest\x12\r\n\x05group\x18\x01 \x01(\t\x12\x11\n\tevent_ids\x18\x02 \x03(\t" \n\x0cNackResponse\x12\x10\n\x08released\x18\x01 \x01(\r*g\n\rStartPosition\x12\x1e\n\x1aSTART_POSITION_UNSPECIFIED\x10\x00\x12\x19\n\x15START_POSITION_LATEST\x10\x01\x12\x1b\n\x17START_POSITION_EARLIEST\x10\x022\xdb\x01\n\x0eWebhookService\x12N\n\tSubscribe\x12\x1e.cryptopay.v1.SubscribeRequest\x1a\x1f.cryptopay.v1.SubscribeResponse0\x01\x12:\n\x03Ack\x12\x18.cryptopay.v1.AckRequest\x1a\x19.cryptopay.v1.AckResponse\x12=\n\x04Nack\x12\x19.cryptopay.v1.NackRequest\x1a\x1a.cryptopay.v1.NackResponseb\x06proto3')
_globals = globals()
_builder.BuildMessageAndEnumDescriptors(DESCRIPTOR, _globals)
_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'cryptopay.v1.webhook_service_pb2', _globals)
if not _descriptor._USE_C_DESCRIPTORS:
    DESCRIPTOR._loaded_options = None
    _globals['_STARTPOSITION']._serialized_start = 933
    _globals['_STARTPOSITION']._serialized_end = 1036
    _globals['_SUBSCRIBEREQUEST']._serialized_start = 144
    _globals['_SUBSCRIBEREQUEST']._serialized_end = 379
    _globals['_SUBSCRIBERESPONSE']._serialized_start = 381
    _globals['_SUBSCRIBERESPONSE']._serialized_end = 443
    _globals['_WEBHOOKEVENT']._serialized_start = 446
    _globals['_WEBHOOKEVENT']._serialized_end = 763
    _globals['_ACKREQUEST']._serialized_start = 765
    _globals['_ACKREQUEST']._serialized_end = 811
    _globals['_ACKRESPONSE']._serialized_start = 813
    _globals['_ACKRESPONSE']._serialized_end = 848
    _globals['_NACKREQUEST']._serialized_start = 850
    _globals['_NACKREQUEST']._serialized_end = 897
    _globals['_NACKRESPONSE']._serialized_start = 899
    _globals['_NACKRESPONSE']._serialized_end = 931
    _globals['_WEBHOOKSERVICE']._serialized_start = 1039
    _globals['_WEBHOOKSERVICE']._serialized_end = 1258