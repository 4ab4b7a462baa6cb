export { CedatoAuth } from "./cedato_auth.js";
export type { CedatoAuthOptions, RequestOptions, CedatoError, CedatoErrorCode } from "./cedato_auth.js";
