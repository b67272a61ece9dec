package io.execgate.records;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a records database that cannot be used into a start-up report that names the file and what to do. */
class RecordsFailureAnalyzer extends AbstractFailureAnalyzer<RecordsUnavailableException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, RecordsUnavailableException cause) {
        return new FailureAnalysis(cause.getMessage(),
                "execgate keeps its exec records in " + cause.file() + " and will not start without them, so that no "
                        + "record is lost in silence. Make the file and its directory writable by the service, restore "
                        + "the file from a backup, or move it aside to start with no records (execgate.data-dir "
                        + "chooses the directory).", cause);
    }
}
