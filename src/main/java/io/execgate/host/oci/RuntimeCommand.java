package io.execgate.host.oci;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.execgate.host.BlockingThreads;

/**
 * Runs one short runtime command ({@code list}, {@code state}, {@code --version}) to completion: a bounded
 * amount of output, a deadline after which the command is killed, and a clean environment (the service's own
 * holds its secrets).
 */
final class RuntimeCommand {

    static final List<String> ENVIRONMENT = List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    private static final int MAX_STDOUT = 16 * 1024 * 1024;
    private static final int MAX_STDERR = 64 * 1024;

    private RuntimeCommand() {
    }

    /** What a command printed and how it exited. */
    record Result(int exitCode, byte[] stdout, String stderr) {

        boolean succeeded() {
            return exitCode == 0;
        }

        String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        /** The runtime's own complaint, one line, for error messages. */
        String complaint() {
            String text = stderr.isBlank() ? stdoutText() : stderr;
            return text.strip().replaceAll("\\s*\\n\\s*", "; ");
        }
    }

    /** The command failed to run at all, ran too long, or printed more than the service keeps. */
    static final class CommandException extends IOException {
        private final boolean timedOut;

        CommandException(String message) {
            super(message);
            this.timedOut = false;
        }

        CommandException(String message, Throwable cause) {
            super(message, cause);
            this.timedOut = false;
        }

        private CommandException(String message, boolean timedOut) {
            super(message);
            this.timedOut = timedOut;
        }

        static CommandException timedOut(String message) {
            return new CommandException(message, true);
        }

        /** The runtime did not answer in time: the backend is busy or stuck, which may pass (503, not 422). */
        boolean timedOut() {
            return timedOut;
        }
    }

    static Result run(List<String> argv, Duration timeout) throws CommandException {
        ProcessBuilder builder = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().clear();
        for (String entry : ENVIRONMENT) {
            int eq = entry.indexOf('=');
            builder.environment().put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new CommandException("cannot run " + argv.getFirst() + ": " + e.getMessage(), e);
        }
        // The deadline kills the command, which ends the reads below; the reads themselves have no timeout.
        AtomicBoolean timedOut = new AtomicBoolean();
        CompletableFuture<Void> deadline = CompletableFuture.runAsync(() -> {
            if (process.isAlive()) {
                timedOut.set(true);
                process.destroyForcibly();
            }
        }, CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS));
        try {
            CompletableFuture<byte[]> stderr = new CompletableFuture<>();
            // Both pipes are read at once so that neither can fill and stall the runtime, each on a pooled
            // platform thread, as every blocking native read here is.
            BlockingThreads.start("execgate-oci-stderr", () -> {
                try (InputStream in = process.getErrorStream()) {
                    stderr.complete(readBounded(in, MAX_STDERR, false));
                } catch (IOException e) {
                    stderr.complete(new byte[0]);
                }
            });
            // stdout too: this runs on request threads, which are virtual.
            byte[] stdout = BlockingThreads.call("execgate-oci-stdout", () -> {
                try (InputStream in = process.getInputStream()) {
                    return readBounded(in, MAX_STDOUT, true);
                }
            });
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || timedOut.get()) {
                throw CommandException.timedOut(String.join(" ", argv) + " did not finish within " + timeout);
            }
            return new Result(process.exitValue(), stdout, new String(stderr.join(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            process.destroyForcibly();
            throw e instanceof CommandException c ? c
                    : new CommandException("reading from " + argv.getFirst() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CommandException("interrupted while " + argv.getFirst() + " ran", e);
        } finally {
            deadline.cancel(false);
            if (process.isAlive()) {
                process.destroyForcibly(); // the JDK reaps it
            }
        }
    }

    /** Reads up to {@code limit} bytes; beyond it, fails ({@code strict}) or drops the rest. */
    private static byte[] readBounded(InputStream in, int limit, boolean strict) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        int n;
        while ((n = in.read(chunk)) >= 0) {
            int room = limit - out.size();
            if (n > room) {
                if (strict) {
                    throw new CommandException("the runtime printed more than " + limit + " bytes");
                }
                out.write(chunk, 0, Math.max(room, 0));
                continue;
            }
            out.write(chunk, 0, n);
        }
        return out.toByteArray();
    }
}
