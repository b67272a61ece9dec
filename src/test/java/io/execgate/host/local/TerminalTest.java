package io.execgate.host.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileInputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

import io.execgate.host.ConsoleSize;
import io.execgate.host.ImmediateInput;
import org.junit.jupiter.api.Test;

/** A real pseudo-terminal: what is written to its input reaches the side a process reads. */
class TerminalTest {

    /** Keystrokes can go in without waiting, so the exec's writer thread is not woken for each of them. */
    @Test
    void keystrokesGoInWithoutAWriterThread() throws Exception {
        Terminal terminal = Terminal.open(new ConsoleSize(80, 24));
        try (FileInputStream slave = new FileInputStream(terminal.slavePath())) {
            OutputStream stdin = terminal.stdin().orElseThrow();
            assertThat(stdin).isInstanceOf(ImmediateInput.class);
            byte[] line = "hi\n".getBytes(StandardCharsets.US_ASCII);
            assertThat(((ImmediateInput) stdin).writeWithoutWaiting(line, 0, line.length)).isEqualTo(3);
            assertThat(new String(slave.readNBytes(3), StandardCharsets.US_ASCII)).isEqualTo("hi\n");
        } finally {
            terminal.close();
        }
    }
    /** What a process wrote and nobody has read yet is what the output stream says is available. */
    @Test
    void itsOutputTellsWhatItHoldsUnread() throws Exception {
        Terminal terminal = Terminal.open(new ConsoleSize(80, 24));
        java.io.InputStream output = terminal.stdout().orElseThrow();
        try (java.io.FileOutputStream slave = new java.io.FileOutputStream(terminal.slavePath())) {
            assertThat(output.available()).isZero();
            slave.write("hello".getBytes(StandardCharsets.US_ASCII));
            slave.flush();
            for (int i = 0; i < 100 && output.available() == 0; i++) {
                Thread.sleep(10);
            }
            assertThat(output.available()).isEqualTo(5);
            byte[] read = new byte[16];
            assertThat(output.read(read, 0, read.length)).isEqualTo(5);
            assertThat(output.available()).isZero();
        } finally {
            terminal.close();
        }
        assertThat(output.available()).as("closed").isZero();
    }
}
