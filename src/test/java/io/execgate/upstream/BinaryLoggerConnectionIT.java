package io.execgate.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import io.execgate.DataDirectory;
import io.execgate.support.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A logging driver's connection against a real driver process and its real FIFOs, without the service. */
class BinaryLoggerConnectionIT {

    @TempDir
    Path dir;

    @Test
    void aCloseWhileTheDriverStartsFailsTheConnectInsteadOfStartingTheExecWithItsUpstreamGone() throws Exception {
        // A driver that runs but never signals readiness: connect() waits on the wait FIFO until close() comes.
        Path driver = dir.resolve("silent");
        Files.writeString(driver, "#!/bin/sh\necho $$ > \"$(dirname \"$0\")/pid\"\nexec sleep 60\n");
        assertThat(driver.toFile().setExecutable(true)).isTrue();
        try (DataDirectory data = DataDirectory.lock(dir.resolve("data"))) {
            Upstreams upstreams = new Upstreams(new UpstreamProperties("execgate", Duration.ofSeconds(10),
                    Duration.ofSeconds(30), Duration.ofSeconds(10)), data);
            UpstreamConnection connection = upstreams.prepare(
                    UpstreamPlan.parse(null, "binary://" + driver, null, null, false), "e_closing");
            CompletableFuture<Void> connected = CompletableFuture.runAsync(() -> {
                try {
                    connection.connect();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, task -> Thread.ofPlatform().start(task));
            long pid = awaitPid(dir.resolve("pid"));

            connection.close(); // a DELETE or the shutdown, while the driver has not signalled yet

            assertThat(connected).failsWithin(Duration.ofSeconds(10)).withThrowableThat()
                    .havingRootCause().isInstanceOf(IOException.class)
                    .withMessageContaining("closed while the logging driver");
            assertThat(Processes.awaitGone(pid, 5_000)).as("the driver, never ready, is killed").isTrue();
            awaitEmpty(data.resolve("upstream"));
            // tracked until the service has reaped the driver (awaitGone counts a zombie as gone)
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (upstreams.openCount() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(upstreams.openCount()).isZero();
        }
    }

    private static long awaitPid(Path file) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            String text = Files.exists(file) ? Files.readString(file).strip() : "";
            if (!text.isEmpty()) {
                return Long.parseLong(text);
            }
            assertThat(System.nanoTime()).as("the driver started").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** Its FIFOs' directory goes once the driver has exited. */
    private static void awaitEmpty(Path upstreamDirs) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Files.isDirectory(upstreamDirs)) {
            try (Stream<Path> left = Files.list(upstreamDirs)) {
                if (left.findAny().isEmpty()) {
                    return;
                }
            }
            assertThat(System.nanoTime()).as("%s emptied", upstreamDirs).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
