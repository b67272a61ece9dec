/**
 * Durable exec records: the {@link io.execgate.exec.ExecStore} on an embedded SQLite database under
 * {@code execgate.data-dir}, its schema versioned by Flyway, written in WAL mode so a committed record survives
 * the service being killed. The exec layer writes through it and reads it back once, at start.
 */
@NullMarked
package io.execgate.records;

import org.jspecify.annotations.NullMarked;
