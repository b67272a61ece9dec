package io.execgate.host.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.execgate.host.HostProcess;
import io.execgate.host.ProcessSpec;
import org.junit.jupiter.api.Test;

/** Real processes writing into real pipes: the pipe grows only while its reader lags behind and has room. */
class OutputPipeTest {

    private static final int LINUX_DEFAULT = 64 * 1024;

    @Test
    void aPipeReadBehindItsProcessDoublesUpToAMebibyteAndLosesNothing() throws Exception {
        long size = 16L * 1024 * 1024;
        HostProcess head = start("head", "-c", Long.toString(size), "/dev/zero");
        try {
            OutputPipe pipe = pipe(head);
            assertThat(pipe.capacity()).isEqualTo(LINUX_DEFAULT);
            ByteBuffer buffer = ByteBuffer.allocateDirect(2 * OutputPipe.MOST);
            List<Integer> capacities = new ArrayList<>();
            long total = 0;
            int largestRead = 0;
            int n;
            while (true) {
                Thread.sleep(3); // a reader slower than head: the pipe is full at every read
                buffer.clear();
                n = pipe.read(buffer);
                if (n < 0) {
                    break;
                }
                total += n;
                largestRead = Math.max(largestRead, n);
                capacities.add(pipe.capacity());
            }
            assertThat(total).isEqualTo(size);
            assertThat(capacities).as("the pipe's size after each read").isSorted()
                    .contains(2 * LINUX_DEFAULT, 4 * LINUX_DEFAULT, OutputPipe.MOST);
            assertThat(capacities.getLast()).isEqualTo(OutputPipe.MOST);
            assertThat(largestRead).as("a grown pipe hands out more per read").isGreaterThan(LINUX_DEFAULT);
            assertThat(head.onExit().get(10, TimeUnit.SECONDS).exitCode()).isZero();
        } finally {
            head.close();
        }
    }

    @Test
    void aReaderWithNoRoomForMoreLeavesThePipeAsItIs() throws Exception {
        HostProcess head = start("head", "-c", "4194304", "/dev/zero");
        try {
            OutputPipe pipe = pipe(head);
            byte[] buffer = new byte[LINUX_DEFAULT]; // what a full pipe holds: it could take no more
            while (true) {
                Thread.sleep(1);
                if (((InputStream) pipe).read(buffer, 0, buffer.length) < 0) {
                    break;
                }
                assertThat(pipe.capacity()).isEqualTo(LINUX_DEFAULT);
            }
        } finally {
            head.close();
        }
    }

    @Test
    void aPipeThatIsNeverFullStaysAtItsSize() throws Exception {
        HostProcess chatty = start("sh", "-c", "for i in $(seq 200); do echo line $i; done");
        try {
            OutputPipe pipe = pipe(chatty);
            ByteBuffer buffer = ByteBuffer.allocateDirect(OutputPipe.MOST);
            String text = readText(pipe, buffer, () -> assertThat(pipe.capacity()).isEqualTo(LINUX_DEFAULT));
            assertThat(text).startsWith("line 1\n").endsWith("line 200\n");
        } finally {
            chatty.close();
        }
    }

    /**
     * After a flood the process turns chatty: the grown pipe goes back to Linux's size once the reads have been
     * small for a while (for a service not run as root, its size counts against the user's pipe limit). What the
     * pipe holds unread is what {@code available} says.
     */
    @Test
    void aGrownPipeShrinksBackOnceTheFloodIsOverAndTellsWhatItHolds() throws Exception {
        HostProcess sh = start("sh", "-c", "head -c 8388608 /dev/zero; sleep 0.3; "
                + "for i in $(seq 60); do echo line $i; sleep 0.005; done");
        try {
            OutputPipe pipe = pipe(sh);
            ByteBuffer buffer = ByteBuffer.allocateDirect(2 * OutputPipe.MOST);
            long flood = 0;
            int mostHeld = 0;
            while (flood < 8388608) {
                Thread.sleep(3); // behind head: the pipe grows
                mostHeld = Math.max(mostHeld, pipe.available());
                buffer.clear();
                int n = pipe.read(buffer);
                assertThat(n).isPositive();
                flood += n;
            }
            assertThat(pipe.capacity()).as("grown by the flood").isEqualTo(OutputPipe.MOST);
            assertThat(mostHeld).as("what a full pipe held before a read").isGreaterThan(LINUX_DEFAULT);
            List<Integer> capacities = new ArrayList<>();
            String lines = readText(pipe, buffer, () -> capacities.add(pipe.capacity()));
            assertThat(lines).startsWith("line 1\n").endsWith("line 60\n");
            assertThat(capacities.getLast()).as("back to its first size").isEqualTo(LINUX_DEFAULT);
            // after the small reads it waits for (the flood's last read may have been one of them)
            assertThat(capacities.indexOf(LINUX_DEFAULT)).as("reads before it shrank")
                    .isGreaterThanOrEqualTo(OutputPipe.SMALL_READS_TO_SHRINK - 2);
            assertThat(pipe.available()).as("nothing left at the end").isZero();
            pipe.close();
            assertThat(pipe.available()).as("closed").isZero();
        } finally {
            sh.kill();
            sh.close();
        }
    }

    @Test
    void closingItEndsAReadBlockedOnAPipeAGrandchildHolds() throws Exception {
        HostProcess sh = start("sh", "-c", "sleep 30 & echo started");
        try {
            OutputPipe pipe = pipe(sh);
            ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
            assertThat(pipe.read(buffer)).isPositive();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    buffer.clear();
                    pipe.read(buffer); // blocks: the sleep holds the pipe open
                } catch (java.io.IOException expected) {
                    // closed under it
                }
            });
            Thread.sleep(200);
            assertThat(reader.isAlive()).isTrue();
            pipe.close();
            reader.join(Duration.ofSeconds(5));
            assertThat(reader.isAlive()).as("the read ended with the close").isFalse();
            assertThat(pipe.isOpen()).isFalse();
        } finally {
            sh.kill();
            sh.close();
        }
    }

    private static HostProcess start(String... command) throws Exception {
        String path = LocalProcesses.locate(command[0]).orElseThrow().toString();
        return LocalProcesses.start(path, new ProcessSpec(List.of(command), List.of("PATH=/usr/bin:/bin"), "/", null,
                false, null, false, true, false), Clock.systemUTC());
    }

    /** Reads the pipe to its end as ASCII text, running {@code afterRead} after each read. */
    private static String readText(OutputPipe pipe, ByteBuffer buffer, Runnable afterRead) throws java.io.IOException {
        StringBuilder text = new StringBuilder();
        while (true) {
            buffer.clear();
            if (pipe.read(buffer) < 0) {
                return text.toString();
            }
            buffer.flip();
            text.append(java.nio.charset.StandardCharsets.US_ASCII.decode(buffer));
            afterRead.run();
        }
    }

    private static OutputPipe pipe(HostProcess process) {
        InputStream stdout = process.stdout().orElseThrow();
        assertThat(stdout).isInstanceOf(OutputPipe.class);
        return (OutputPipe) stdout;
    }
}
