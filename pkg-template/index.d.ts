export { CedatoAuth } from "./cedato_auth.js";
export type {
  CedatoAuthOptions,
  RequestOptions,
  CedatoError,
  CedatoErrorCode,
  StoredToken,
  TokenStore,
} from "./cedato_auth.js";
