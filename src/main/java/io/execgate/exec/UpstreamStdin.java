package io.execgate.exec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import io.execgate.host.BlockingThreads;
import io.execgate.host.HostProcess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies an upstream stdin (a FIFO) into the process, on a platform thread (the read waits in native code), and
 * closes the process's stdin at its end-of-file, as hcsshim's stdin relay does.
 */
final class UpstreamStdin {

    private static final Logger log = LoggerFactory.getLogger(UpstreamStdin.class);
    private static final int CHUNK = 64 * 1024;

    private UpstreamStdin() {
    }

    static void start(String execId, InputStream upstream, HostProcess process) {
        OutputStream stdin = process.stdin().orElseThrow();
        BlockingThreads.start("exec-" + execId + "-stdin", () -> {
            byte[] chunk = new byte[CHUNK];
            try (upstream) {
                int n;
                while ((n = upstream.read(chunk, 0, chunk.length)) >= 0) {
                    stdin.write(chunk, 0, n);
                    stdin.flush();
                }
            } catch (IOException e) {
                log.debug("exec {}: upstream stdin ended: {}", execId, e.toString());
            } finally {
                try {
                    process.closeStdin();
                } catch (IOException e) {
                    log.debug("exec {}: closing stdin failed: {}", execId, e.getMessage());
                }
            }
        });
    }
}
