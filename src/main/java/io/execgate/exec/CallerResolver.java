package io.execgate.exec;

/** Tells who is asking, on the thread that asks (the security layer provides it; without it, {@link Caller#SERVICE}). */
@FunctionalInterface
public interface CallerResolver {
    Caller current();
}
