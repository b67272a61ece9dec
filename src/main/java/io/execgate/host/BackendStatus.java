package io.execgate.host;

/**
 * Whether a backend can be used here, and why not when it cannot.
 *
 * @param name      short backend name ({@code local}, {@code runc}, {@code hcs}, {@code qemu})
 * @param kind      the kind of target it provides
 * @param available true when it can run commands now
 * @param detail    a version or configuration line when available, the reason when not
 */
public record BackendStatus(String name, TargetKind kind, boolean available, String detail) {
}
