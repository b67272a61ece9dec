package io.execgate.exec;

import java.io.IOException;
import java.io.OutputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a fixed input to a process's stdin and then closes it, so the process reads end-of-file (the
 * {@code input} of run-to-completion). A platform thread, because the write blocks while the pipe is full;
 * it ends when the process has read everything or exits (the write then fails and is dropped).
 */
final class StdinFeeder {

    private static final Logger log = LoggerFactory.getLogger(StdinFeeder.class);

    private StdinFeeder() {
    }

    static void start(String execId, OutputStream stdin, byte[] input) {
        Thread.ofPlatform().daemon().name("exec-" + execId + "-stdin").stackSize(OutputRelay.STACK_SIZE).start(() -> {
            try (stdin) {
                stdin.write(input);
            } catch (IOException e) {
                log.debug("exec {}: stdin not fully written ({} bytes offered): {}", execId, input.length, e.toString());
            }
        });
    }
}
