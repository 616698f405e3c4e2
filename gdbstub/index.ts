export { GdbClient, type BreakpointKind, type ClientEvents, type ClientOptions, type ResumeAction } from './client.js';
export { RspConnection, type ConnectionEvents, type ConnectionOptions, type RequestOptions, type SyncProbe } from './connection.js';
export { checksum, decodeBody, encodePacket, MAX_PACKET_BYTES, PacketDecoder, type DecodedItem } from './codec.js';
export {
  RspClosedError,
  RspError,
  RspMalformedError,
  RspProtocolError,
  RspStateError,
  RspTimeoutError,
  RspUnsupportedError,
} from './errors.js';
export { CLIENT_FEATURES, parseSupported, type StubFeatures } from './features.js';
export { gdbsxLayout, layoutFromTargetXml, RegisterLayout, type RegisterInfo } from './layout.js';
export { StopCache } from './cache.js';
export { breakpointAddressForPc, detectDialect, quirksFor, type StubDialect, type StubQuirks } from './quirks.js';
export { parseStopReply, SIGINT, SIGTRAP, type StopEvent, type WatchKind } from './stop-reply.js';
export { formatThreadId, parseThreadId, sameThread, type ThreadId } from './thread-id.js';
export { connectSocket, parseStubAddress, type PacketLog, type PacketLogEntry, type PacketStats, type StubAddress } from './transport.js';
export { parseXml, type XmlElement } from './xml.js';
