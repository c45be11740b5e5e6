// moat portal's RADIUS: codec, client, accounting, policy and the RFC 5176
// CoA/Disconnect listener. The public face of src/portal/radius.
export { RADIUS_ERROR, radiusError, type RadiusErrorCode } from './errors.js';
export {
  ATTRIBUTES, CODE, ACCT_STATUS_TYPE, TERMINATE_CAUSE, ERROR_CAUSE, SERVICE_TYPE, NAS_PORT_TYPE, VENDOR_WISPR, VENDOR_CHILLISPOT,
  attributeByName, attributeByNumber, codeName, type AttributeDef, type AttributeType,
} from './dictionary.js';
export { decodePacket, encodePacket, MAX_PACKET, MIN_PACKET, type RadiusAttribute, type RadiusPacket } from './packet.js';
export { attr, getAll, getInteger, getRaw, getText, decodeValue, encodeValue, type AttributeValue } from './attributes.js';
export {
  chapPassword, chapResponse, hidePassword, unhidePassword, randomAuthenticator, signRequest, signResponse, verifyRequest, verifyResponse,
  messageAuthenticatorPlaceholder, type Verification, type MessageAuthenticatorState,
} from './authenticator.js';
export { mapPolicy, type SessionPolicy } from './policy.js';
export {
  macToCallingStationId, newAcctSessionId, type AcctRequest, type AcctStatus, type AuthRequest, type Credentials,
} from './request-attributes.js';
export { RadiusClient, type AuthResult, type RadiusClientEvent, type RadiusClientStats, type RequestKind } from './client.js';
export type { RadiusClientOptions, RadiusServer } from './client-options.js';
export {
  startCoaListener, type CoaClient, type CoaEvent, type CoaHandler, type CoaListener, type CoaListenerOptions, type CoaListenerStats,
  type DynamicAnswer, type DynamicRequest,
} from './coa-listener.js';
