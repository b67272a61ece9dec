package io.execgate.stream;

import org.apache.tomcat.websocket.BackgroundProcess;
import org.apache.tomcat.websocket.BackgroundProcessManager;
import org.springframework.context.SmartLifecycle;

/**
 * Keeps Tomcat's WebSocket background thread for the service's life. Tomcat starts that thread when the first
 * session opens and stops it when the last one closes, so one-step execs that come one after another (a script
 * calling {@code kubectl exec} in a loop) paid a thread start on every handshake. A registered no-op keeps it.
 */
final class KeptBackgroundThread implements SmartLifecycle, BackgroundProcess {

    private volatile boolean running;
    private int period = 10;

    @Override
    public void start() {
        BackgroundProcessManager.getInstance().register(this);
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        BackgroundProcessManager.getInstance().unregister(this);
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public void backgroundProcess() {
        // nothing: being registered is the point
    }

    @Override
    public void setProcessPeriod(int period) {
        this.period = period;
    }

    @Override
    public int getProcessPeriod() {
        return period;
    }
}
