/**
 * Who may do what: bearer tokens (static, by SHA-256, or JWTs), roles per target kind, the WebSocket
 * handshake's token and origin, problem documents for 401 and 403, and the audit log of every exec.
 */
@NullMarked
package io.execgate.security;

import org.jspecify.annotations.NullMarked;
