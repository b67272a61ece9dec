/**
 * Cross-cutting web pieces: the error codes and their problem documents, the OpenAPI document, and the
 * read-only target views.
 */
@NullMarked
package io.execgate.api;

import org.jspecify.annotations.NullMarked;
