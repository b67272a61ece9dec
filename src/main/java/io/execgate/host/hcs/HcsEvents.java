package io.execgate.host.hcs;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.jna.Pointer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one process callback registered with HCS. Its context is a small number looked up here, never a live
 * pointer (HCS may call after the Java object is gone), and the callback object is held in a static field so the
 * garbage collector never frees what HCS calls. The callback only hands the event on: it must not block HCS's thread.
 */
final class HcsEvents {

    private static final Logger log = LoggerFactory.getLogger(HcsEvents.class);

    /** What a listener receives: the event type and its JSON (or null). */
    interface Listener {
        void event(int type, @Nullable String data);
    }

    private static final Map<Long, Listener> LISTENERS = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT = new AtomicLong(1);
    static final ComputeCore.HCS_EVENT_CALLBACK CALLBACK = HcsEvents::dispatch;

    private HcsEvents() {
    }

    static long register(Listener listener) {
        long id = NEXT.getAndIncrement();
        LISTENERS.put(id, listener);
        return id;
    }

    static void unregister(long id) {
        LISTENERS.remove(id);
    }

    /** How many processes are registered now (a test checks none is left). */
    static int registered() {
        return LISTENERS.size();
    }

    static Pointer context(long id) {
        return new Pointer(id);
    }

    private static void dispatch(Pointer event, Pointer context) {
        try {
            ComputeCore.HCS_EVENT e = new ComputeCore.HCS_EVENT(event);
            String data = e.EventData == null ? null : e.EventData.getWideString(0);
            Listener listener = LISTENERS.get(Pointer.nativeValue(context));
            if (listener != null) {
                listener.event(e.Type, data);
            }
        } catch (RuntimeException | Error e) {
            log.error("an HCS event could not be handled", e); // never thrown into HCS's thread
        }
    }
}
