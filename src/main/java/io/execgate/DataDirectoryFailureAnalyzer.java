package io.execgate;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a data directory the service cannot hold into a start-up report that says what to do. */
class DataDirectoryFailureAnalyzer extends AbstractFailureAnalyzer<DataDirectoryException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, DataDirectoryException cause) {
        return new FailureAnalysis(cause.getMessage(),
                "Each execgate needs a data directory of its own, writable by the service. Stop the other service, or "
                        + "give this one another directory with execgate.data-dir (EXECGATE_DATA_DIR).", cause);
    }
}
