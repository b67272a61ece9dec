package io.execgate.security;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

/**
 * The lines written to the audit logger while it is open, read from the logger itself rather than from the
 * console, so that an assertion can count them.
 */
final class AuditLines extends AppenderBase<ILoggingEvent> implements AutoCloseable {

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(ExecAuditLog.LOGGER);

    private AuditLines() {
    }

    static AuditLines capture() {
        AuditLines audit = new AuditLines();
        audit.start();
        audit.logger.addAppender(audit);
        return audit;
    }

    @Override
    protected void append(ILoggingEvent event) {
        lines.add(event.getFormattedMessage());
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void close() {
        logger.detachAppender(this);
        stop();
    }
}
